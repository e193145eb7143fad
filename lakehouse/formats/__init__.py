"""Message formats: UN/EDIFACT, WCO XML and JSON feeds behind one parser contract."""
