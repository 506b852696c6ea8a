"""Strategies (one module each) behind the three-method Strategy protocol."""
