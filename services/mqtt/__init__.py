"""The MQTT bridge: presence from the bus's results, published to an MQTT broker, with Home Assistant discovery."""
