"""Outside tests of the safety properties (issue 14): each drives the real CLI against a real repository."""
