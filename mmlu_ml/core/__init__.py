"""Shared parts below the stages: MMLU sources and subjects, languages, records, paths, caches, statistics,
endpoints, the backend loader. Nothing here imports a stage."""
