"""The thing's identity: its key, its certificate, provisioning by claim and rotation.

`keys` makes keys and CSRs and writes files atomically; `state` is the durable identity
document; `rotation` is the sans-IO rotation state machine; `fleet` speaks AWS IoT fleet
provisioning through awsiotsdk's IotIdentityClient; `provisioning` and `rotator` drive
them over real connections.
"""
