"""Synthetic participants for media tests and load benchmarks: sala's real join and room
protocol and real WebRTC (aiortc) with Janus, at a small fraction of a browser's cost.

    participant.py  the room side and the negotiation of each piece of media
    media.py        pre-encoded tracks that send, taps that count what arrives
    clips.py        the pre-encoded files (ffmpeg, once) and their packets in memory
    ice.py          host candidates on the namespace's address only, no STUN
    report.py       what each participant received, as plain values
"""

from tests.support.synthetic.clips import EncodedClip, camera_argv, make, speech_argv, tone_argv
from tests.support.synthetic.participant import ListenPath, MediaRefused, SyntheticParticipant
from tests.support.synthetic.report import Hearing, ParticipantReport, Received

__all__ = [
    "EncodedClip",
    "Hearing",
    "ListenPath",
    "MediaRefused",
    "ParticipantReport",
    "Received",
    "SyntheticParticipant",
    "camera_argv",
    "make",
    "speech_argv",
    "tone_argv",
]
