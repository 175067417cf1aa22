"""The Hugging Face side: dataset features from the schema, the build, its card, rehydration and publishing."""
