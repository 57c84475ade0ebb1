"""The meeting domain: meetings, attendees, roles, lifecycle rules and timers.

Nothing here knows about HTTP or XML; the API and the room call MeetingService.
"""
