"""The BigBlueButton HTTP API: checksums, parameters, calls and their XML (or JSON) answers."""
