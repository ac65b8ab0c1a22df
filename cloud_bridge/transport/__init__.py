"""Cloud transports: AWS IoT Core (awsiotsdk) and any MQTT broker (paho-mqtt)."""
