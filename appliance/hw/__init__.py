"""Front panel hardware with a real (RPi.GPIO) and a simulated backend."""
