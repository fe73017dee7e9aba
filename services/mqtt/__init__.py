"""The MQTT bridge: presence from the results, the sightings' events and snapshots, and Home Assistant discovery."""
