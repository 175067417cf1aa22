"""The dataset's versions: git access, the changelog, differences between versions, bump rules and releases."""
