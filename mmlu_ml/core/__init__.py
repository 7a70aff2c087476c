"""Shared parts below the stages: MMLU sources and subjects, languages, records, paths, caches, statistics,
endpoints, the backend loader, and what several stages share: prompt protocols, translation checks, protected
spans. Nothing here imports a stage (setup.cfg's import-linter contract)."""
