"""Phone lines: AT command layer, GSM and analog voice modem drivers."""
