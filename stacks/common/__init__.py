"""What the three stack programs share: their input, naming and tagging, the schedule's events and
the configuration document the deployment agent reads on the instances."""
