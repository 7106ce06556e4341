"""Engine workers: the only package that imports pjsua2."""
