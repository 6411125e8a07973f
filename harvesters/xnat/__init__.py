"""The XNAT harvester (`xnat`): see `harvesters.xnat.harvester`."""
