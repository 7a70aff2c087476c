"""llama.cpp plumbing that the local translator and the llamacpp model share: model files (assets), loading,
and batched generation in streams."""
