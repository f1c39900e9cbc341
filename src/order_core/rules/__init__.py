"""The business rules: pure functions over data, with policies for their limits."""
