"""One module per backend, each registering what it implements for the
contract suites (see tests/contract/conftest.py)."""
