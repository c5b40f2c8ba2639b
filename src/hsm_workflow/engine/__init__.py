"""Engine adapter: the only package that touches SpiffWorkflow objects."""
