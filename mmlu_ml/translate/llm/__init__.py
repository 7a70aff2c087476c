"""What the LLM translators (local, openai) share: the prompt and its reply parsing, and the worked examples."""
