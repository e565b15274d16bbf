"""Inter-agency document exchange: edXML packages and the simulated national axis."""
