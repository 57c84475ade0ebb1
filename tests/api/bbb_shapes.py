"""The element sets BigBlueButton 3.0 answers with, call by call, written by hand from its sources.

How a conformance test uses this module
---------------------------------------
1. Drive sala into the situation a shape describes (a meeting with attendees, a breakout parent, a
   recording with a presentation format, an empty server...).
2. Turn sala's answer into a set of element paths with :func:`xml_paths` (XML answers) or
   :func:`json_paths` (the JSON calls). Paths start at the root element, use ``/`` between element
   names, ``/@name`` for an attribute, and ``*`` for the free-form children of a container whose
   children are named by data (``metadata``, ``customdata``): ``response/metadata/*``.
3. Call :func:`problems` with the shape name, the paths and the condition tags that hold in that
   situation (``"attendees"``, ``"breakout_parent"``...). It reports
   * every required path, and every conditional path whose tag was given, that sala left out;
   * every path sala sent that BBB 3.0 never sends in that answer, unless it is listed for that
     answer in :data:`SALA_EXTENSIONS` (Mconf extensions and sala's own documented additions).
   An empty list means sala answers exactly BBB 3.0's element set (plus documented extensions).

Element order, text values and CDATA are deliberately not compared here: clients parse by name.

Which BBB sources were read
---------------------------
The full bigbluebutton/bigbluebutton history could not be mirrored (over the size limit), so the
v3.0.x-release tree was read from two public single-commit copies of BBB 3.0.x found in the code
index, cross-checked with the v2.5.14/v2.6.14 trees (for files that did not change) and with the
client-library fixtures recorded against 3.0 servers:

* ``U30``: ulan-reader/bigbluebutton@fc0bcdc9a1c7c2e675b9d6eaf105fda5f540e07e, a copy of
  BBB 3.0.x (its bigbluebutton-release holds unresolved merge markers between 3.0.18 and 3.0.15;
  where the two sides differ both are noted).
* ``P30``: USPASH/bigbluebutton-latest@34c7b43053546dc77c4e1f8ad4fb63670300f6ba, a copy of a late
  BBB 3.0.x (ParamsProcessorUtil, MeetingService, api-version.ftlx).
* ``B``: bigbluebutton/bigbluebutton files as stored in the code index (one commit per file,
  given with each citation; not necessarily the newest).
* ``V2514``: bigbluebutton/bigbluebutton v2.5.14 tree (mirror of
  Praveenverma197/Bigbluebutton@0ced4330aa74f7c322e548afab8489c9276cb3bc), used only where the
  3.0 file is unchanged or was not readable; line numbers refer to that tree.
* ``WH``: bigbluebutton/bbb-webhooks tag v3.3.1 (the API module is the same from v3.0.0 to v3.5.0
  except for the hooks/list sort fix of v3.4.0).
* ``PHP``: bigbluebutton/bigbluebutton-api-php 3.0.0 tests/fixtures/responses (answers recorded
  against BBB 3.0.19 where it says so), used as a cross-check only.
Details, quirks and line ranges are in the research notes that accompany issue 13.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Citations, shortened; see the module docstring.
U30 = "ulan-reader/bigbluebutton@fc0bcdc9a1c7c2e675b9d6eaf105fda5f540e07e"
P30 = "USPASH/bigbluebutton-latest@34c7b43053546dc77c4e1f8ad4fb63670300f6ba"
V2514 = "bigbluebutton/bigbluebutton v2.5.14 (Praveenverma197/Bigbluebutton@0ced4330aa74)"
WH = "bigbluebutton/bbb-webhooks@v3.3.1"
FTL = "bigbluebutton-web/src/main/webapp/WEB-INF/freemarker"
API_CONTROLLER = "bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/ApiController.groovy"
RECORDING_CONTROLLER = "bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/RecordingController.groovy"


@dataclass(frozen=True)
class Cond:
    """A path present only in some situations: ``tag`` names the situation, ``when`` explains it."""

    tag: str
    when: str


@dataclass(frozen=True)
class Shape:
    """One BBB 3.0 answer: the paths always present and the paths present only when ... ."""

    source: str
    required: frozenset[str]
    conditional: Mapping[str, Cond] = field(default_factory=dict)
    kind: str = "xml"  # "xml", "json" or "text"
    note: str = ""

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | frozenset(self.conditional)

    @property
    def tags(self) -> frozenset[str]:
        return frozenset(c.tag for c in self.conditional.values())

    def expected(self, *tags: str) -> frozenset[str]:
        """The exact path set BBB 3.0 sends when the situations ``tags`` hold (and no others)."""
        unknown = set(tags) - self.tags
        if unknown:
            raise ValueError(
                f"unknown condition tags {sorted(unknown)}; known: {sorted(self.tags)}"
            )
        return self.required | frozenset(p for p, c in self.conditional.items() if c.tag in tags)


@dataclass(frozen=True)
class Extension:
    """Paths sala may add to a BBB answer (or a whole call BBB does not have)."""

    source: str
    paths: Mapping[str, str]  # path -> what it is


def _paths(prefix: str, *names: str) -> frozenset[str]:
    return frozenset(f"{prefix}/{n}" if n else prefix for n in names)


def _cond(tag: str, when: str, prefix: str, *names: str) -> dict[str, Cond]:
    c = Cond(tag, when)
    return {p: c for p in _paths(prefix, *names)}


R = "response"

# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------

# The single-error answer every call uses (ApiController.invalid() -> ResponseBuilder.buildError
# -> api-error.ftlx). Source: V2514 FTL/api-error.ftlx lines 1-9 (unchanged in 3.0; U30
# ApiController.invalid() still renders buildError(key, msg, "FAILED")).
_ERROR = _paths(R, "", "returncode", "messageKey", "message")

# The meeting element set shared by getMeetingInfo (children of <response>) and getMeetings
# (children of <response>/<meetings>/<meeting>). Source: get-meeting-info.ftlx and
# get-meetings.ftlx (B @63371a1e62eedabf32ecac24040dde6aa6907112 and @21f0493b7a311541f53b4ff61ec7ebe2077a6047;
# V2514 lines 5-84 / 11-74). Values differ by version, not names: the stored getMeetingInfo
# template counts participantCount without users flagged "left" (getNumUsersOnline), V2514 and the
# stored getMeetings template count all users (getNumUsers).
_MEETING_FIELDS = (
    "meetingName",
    "meetingID",
    "internalMeetingID",
    "createTime",
    "createDate",
    "voiceBridge",
    "dialNumber",
    "running",
    "duration",
    "hasUserJoined",
    "recording",
    "hasBeenForciblyEnded",
    "startTime",
    "endTime",
    "participantCount",
    "listenerCount",
    "voiceParticipantCount",
    "videoCount",
    "maxUsers",
    "moderatorCount",
    "attendees",
    "metadata",
    "isBreakout",
)
_ATTENDEE_FIELDS = (
    "userID",
    "fullName",
    "role",
    "isPresenter",
    "isListeningOnly",
    "hasJoinedVoice",
    "hasVideo",
    "clientType",
)


def _meeting_conditionals(m: str) -> dict[str, Cond]:
    out: dict[str, Cond] = {}
    out |= _cond(
        "passwords",
        "the meeting's attendee/moderator password is non-empty; always in 3.0 because create "
        "generates 8 random characters when none is sent (ParamsProcessorUtil.processPassword, P30)",
        m,
        "attendeePW",
        "moderatorPW",
    )
    out |= _cond(
        "attendees",
        "somebody is in the meeting (bbb-web's users map is not empty)",
        f"{m}/attendees/attendee",
        "",
        *_ATTENDEE_FIELDS,
    )
    out |= _cond(
        "customdata",
        "the attendee's external user ID has a custom-data map; in 3.0 join stores one for every "
        "API join, empty when no userdata-* was sent (U30 ApiController.join calls "
        "meetingService.addUserCustomData unconditionally), so <customdata/> appears empty",
        f"{m}/attendees/attendee/customdata",
        "",
    )
    out |= _cond(
        "userdata",
        "one child per userdata-<key> join parameter (key split on '-', exactly two parts)",
        f"{m}/attendees/attendee/customdata",
        "*",
    )
    out |= _cond(
        "metadata",
        "one child per valid meta_<name> create parameter, name lower-cased",
        f"{m}/metadata",
        "*",
    )
    out |= _cond(
        "breakout_child",
        "isBreakout is true: parentMeetingID is the parent's internal ID, sequence and freeJoin",
        m,
        "parentMeetingID",
        "sequence",
        "freeJoin",
    )
    out |= _cond(
        "breakout_parent",
        "the meeting has breakout rooms; one <breakout> per room holding the room's meetingID "
        "(its external ID, sha1(parentInternalId-timestamp-sequence)-timestamp) (P30 "
        "MeetingService.handleCreateMeeting: parent.addBreakoutRoom(m.getExternalId()))",
        f"{m}/breakoutRooms",
        "",
        "breakout",
    )
    return out


# ---------------------------------------------------------------------------------------------
# BBB 3.0 answers
# ---------------------------------------------------------------------------------------------

BBB_SHAPES: dict[str, Shape] = {
    # GET /bigbluebutton/api (and /bigbluebutton/api/). No checksum.
    "root": Shape(
        source=f"{P30} {FTL}/api-version.ftlx; {U30} {API_CONTROLLER} index",
        required=_paths(
            R, "", "returncode", "version", "apiVersion", "bbbVersion", "graphqlWebsocketUrl"
        ),
        conditional={
            f"{R}/html5PluginSdkVersion": Cond(
                "3_0_later",
                "later 3.0.x builds (present in P30 and in the PHP fixture from 3.0.19; absent in "
                "B api-version.ftlx @3a7dd7c6906862e45dc54fce3cac5a02af87e36d)",
            ),
            f"{R}/graphqlApiUrl": Cond(
                "3_0_later", "3.0.x builds with the GraphQL REST endpoint (P30, B, PHP 3.0.19)"
            ),
        },
        note="bbbVersion is empty unless allowRevealOfBBBVersion=true. With request header "
        "'Content-Type: application/json' 3.0 answers the same keys as JSON.",
    ),
    "create": Shape(
        source=f"B {FTL}/create-meeting.ftlx@161292dd1f678bb4661a9ab3bf8996dff8e85dfc (= V2514 lines 1-25); {U30} {API_CONTROLLER} create/respondWithConference",
        required=_paths(
            R,
            "",
            "returncode",
            "meetingID",
            "internalMeetingID",
            "parentMeetingID",
            "createTime",
            "voiceBridge",
            "dialNumber",
            "createDate",
            "hasUserJoined",
            "duration",
            "hasBeenForciblyEnded",
            "messageKey",
            "message",
        ),
        conditional=_cond(
            "passwords",
            "non-empty passwords; always in 3.0 (random 8 characters are generated when absent)",
            R,
            "attendeePW",
            "moderatorPW",
        ),
        note="messageKey/message are empty for a new meeting and duplicateWarning for a repeated one.",
    ),
    # join with redirect=false, success. Validation failures (checksum, meetingID, fullName,
    # unknown/ended meeting) redirect (302) even with redirect=false in 3.0: U30 ApiController.join
    # calls invalid(..., redirectClient=REDIRECT_RESPONSE=true) before reading `redirect`.
    "join": Shape(
        source=f"{V2514} {FTL}/join-meeting.ftlx lines 1-15 (3.0 ResponseBuilder.buildJoinMeeting has the same signature, {U30} {API_CONTROLLER} join); PHP join_meeting.xml",
        required=_paths(
            R,
            "",
            "returncode",
            "messageKey",
            "message",
            "meeting_id",
            "user_id",
            "auth_token",
            "session_token",
            "guestStatus",
            "url",
        ),
        note="meeting_id is the internal meeting ID, user_id the internal user ID (w_...).",
    ),
    # join with redirect=false, failures rendered as XML: mismatchCreateTimeParam,
    # maxParticipantsReached, guestDeniedAccess and the three "Params required" answers.
    "join.error": Shape(
        source=f"{U30} {API_CONTROLLER} join (invalid(...) with redirectClient=false, and responseBuilder.buildError('Params required', ...))",
        required=_ERROR,
    ),
    "end": Shape(
        source=f"{V2514} {FTL}/end-meeting.ftlx lines 1-9; {U30} {API_CONTROLLER} end (buildEndRunning)",
        required=_paths(R, "", "returncode", "messageKey", "message"),
    ),
    "isMeetingRunning": Shape(
        source=f"{V2514} {FTL}/is-meeting-running.ftlx lines 1-8; {U30} {API_CONTROLLER} isMeetingRunning",
        required=_paths(R, "", "returncode", "running"),
    ),
    "getMeetingInfo": Shape(
        source=f"B {FTL}/get-meeting-info.ftlx@63371a1e62eedabf32ecac24040dde6aa6907112 (V2514 lines 1-87); {U30} {API_CONTROLLER} getMeetingInfo",
        required=_paths(R, "", "returncode", *_MEETING_FIELDS),
        conditional=_meeting_conditionals(R),
        note="The template also has <messageKey>/<message> guarded by variables that ResponseBuilder "
        "never supplies, so 3.0 never sends them in getMeetingInfo.",
    ),
    "getMeetings": Shape(
        source=f"B {FTL}/get-meetings.ftlx@21f0493b7a311541f53b4ff61ec7ebe2077a6047 (V2514 lines 1-90); {U30} {API_CONTROLLER} getMeetingsHandler",
        required=_paths(R, "", "returncode", "meetings", "meetings/meeting")
        | _paths(f"{R}/meetings/meeting", *_MEETING_FIELDS),
        conditional=_meeting_conditionals(f"{R}/meetings/meeting"),
    ),
    "getMeetings.noMeetings": Shape(
        source=f"get-meetings.ftlx <#else> branch (see getMeetings); {U30} {API_CONTROLLER} getMeetingsHandler ('noMeetings', 'no meetings were found on this server')",
        required=_paths(R, "", "returncode", "meetings", "messageKey", "message"),
    ),
    # getSessions: checksummed (SimpleRequest), lists every join session token on the server.
    "getSessions": Shape(
        source=f"B {FTL}/get-sessions.ftlx@302a05528e8710e3df1bb8dada815a2d18b69092 (= V2514); {U30} {API_CONTROLLER} getSessionsHandler; PHP get_sessions.xml",
        required=_paths(R, "", "returncode", "sessions", "sessions/meeting")
        | _paths(f"{R}/sessions/meeting", "meetingID", "meetingName", "userName"),
        note="One <meeting> per session (per join, per getJoinUrl session); meetingID is the INTERNAL ID.",
    ),
    "getSessions.noSessions": Shape(
        source=f"get-sessions.ftlx <#else>; {U30} {API_CONTROLLER} getSessionsHandler ('noSessions', 'no sessions were found on this serverr' [sic])",
        required=_paths(R, "", "returncode", "sessions", "messageKey", "message"),
    ),
    # insertDocument success and its FAILED answers ("Presentation feature is disabled, ignoring.",
    # "Meeting with id [x] not found.") share one template.
    "insertDocument": Shape(
        source=f"{V2514} {FTL}/insert-document.ftlx lines 1-8; {U30} {API_CONTROLLER} insertDocument calls buildInsertDocumentResponse(message, returnCode); PHP insert_document.xml",
        required=_paths(R, "", "returncode", "message"),
        conditional={
            f"{R}/messageKey": Cond(
                "after_3_0",
                "only in builds whose template has messageKey (B insert-document.ftlx@748619d14546d82ce00f1b2405ba3e7fdcd21153, "
                "with the 3-argument ResponseBuilder of newer trees); not 3.0",
            )
        },
    ),
    "sendChatMessage": Shape(
        source=f"B {FTL}/send-chat-message.ftlx@d79ccd302e63b0406e07a251a59a6aebf38f1dbb; {U30} {API_CONTROLLER} sendChatMessage; PHP send_chat_message.xml",
        required=_paths(R, "", "returncode", "messageKey", "message"),
        note="Both empty on SUCCESS in answers recorded from 3.0; failures use the error shape.",
    ),
    "getRecordings": Shape(
        source=(
            f"{V2514} bbb-common-web/src/main/scala/org/bigbluebutton/api2/domain/Recording.scala "
            "RecMetaResponse.toXml lines 472-577 and RecMetaPlayback.toFormatXml lines 388-410, "
            "RecMetaXmlHelper.scala getRecordings2x lines 100-178; 3.0 still routes through "
            f"recordingServiceHelper.getRecordings2x ({U30} RecordingServiceFileImpl.getRecordings2x) "
            f"and XmlServiceImpl.constructPaginatedResponse ({U30})"
        ),
        required=_paths(R, "", "returncode", "recordings", "recordings/recording")
        | _paths(
            f"{R}/recordings/recording",
            "recordID",
            "meetingID",
            "name",
            "isBreakout",
            "published",
            "state",
            "startTime",
            "endTime",
            "participants",
            "rawSize",
            "metadata",
            "size",
            "playback",
            "data",
        ),
        conditional={
            f"{R}/recordings/recording/internalMeetingID": Cond(
                "internal_id", "metadata.xml has <meeting id=...> (every recording made by 2.0+)"
            ),
            f"{R}/recordings/recording/metadata/*": Cond(
                "metadata",
                "one child per stored meta key (meetingId, meetingName, isBreakout, meta_* of create)",
            ),
            **_cond(
                "breakout_child",
                "a breakout room's recording",
                f"{R}/recordings/recording/breakout",
                "",
                "parentId",
                "sequence",
                "freeJoin",
            ),
            **_cond(
                "breakout_parent",
                "a parent whose metadata.xml lists breakout rooms",
                f"{R}/recordings/recording/breakoutRooms",
                "",
                "breakoutRoom",
            ),
            **_cond(
                "formats",
                "at least one playback format (one <format> per format directory, merged by record ID)",
                f"{R}/recordings/recording/playback/format",
                "",
                "type",
                "url",
                "processingTime",
                "length",
                "size",
            ),
            **_cond(
                "preview",
                "the format's metadata.xml has <extensions><preview> (presentation format thumbnails); "
                "extension children are copied verbatim, so other formats may add other children",
                f"{R}/recordings/recording/playback/format/preview",
                "",
                "images",
                "images/image",
                "images/image/@width",
                "images/image/@height",
                "images/image/@alt",
            ),
            **_cond(
                "data_formats",
                "the recording has data formats (metadata.xml <data>)",
                f"{R}/recordings/recording/data/format",
                "",
                "type",
                "url",
            ),
            f"{R}/totalElements": Cond(
                "paginated_3_0_18",
                "limit (and offset) given, on builds with bigbluebutton#21644 ported "
                "(U30 HEAD side, 3.0.18; issue bigbluebutton#24132)",
            ),
            **_cond(
                "paginated_pre_3_0_18",
                "limit (and offset) given, on 3.0 builds before the fix of issue bigbluebutton#24132 "
                "(U30 origin/master-dev side): the <pagination> block",
                f"{R}/pagination",
                "",
                "pageable",
                "pageable/offset",
                "pageable/limit",
                "pageable/paged",
                "pageable/unpaged",
                "totalElements",
                "empty",
            ),
        },
    ),
    "getRecordings.noRecordings": Shape(
        source=f"{V2514} RecMetaXmlHelper.scala getRecordings2x lines 155-165",
        required=_paths(R, "", "returncode", "recordings", "messageKey", "message"),
        note="returncode SUCCESS, messageKey noRecordings, message 'There are no recordings for the meeting(s).'",
    ),
    # No recordID/meetingID and no limit while bbb-web allowFetchAllRecordings=false.
    "getRecordings.noRecordings.fetchAllDisabled": Shape(
        source=f"{U30} bbb-common-web/src/main/java/org/bigbluebutton/api/service/impl/XmlServiceImpl.java noRecordings()",
        required=_paths(R, "", "returncode", "messageKey", "message"),
        note="No <recordings> element at all. Message: 'No recordings found. This may occur if you "
        "attempt to retrieve all recordings.'",
    ),
    "publishRecordings": Shape(
        source=f"ganesh-swami/bigbluebutton@10d6ccd5bc7d227658fb92f18bd5f0c054499fb1 {RECORDING_CONTROLLER} publishRecordings (inline XML)",
        required=_paths(R, "", "returncode", "published"),
    ),
    "deleteRecordings": Shape(
        source=f"ganesh-swami/bigbluebutton@10d6ccd5bc7d227658fb92f18bd5f0c054499fb1 {RECORDING_CONTROLLER} deleteRecordings (inline XML)",
        required=_paths(R, "", "returncode", "deleted"),
    ),
    "updateRecordings": Shape(
        source=f"ganesh-swami/bigbluebutton@10d6ccd5bc7d227658fb92f18bd5f0c054499fb1 {RECORDING_CONTROLLER} updateRecordingsHandler (inline XML)",
        required=_paths(R, "", "returncode", "updated"),
    ),
    # JSON; arrays are flattened (tracks/href means "href of every item of tracks").
    "getRecordingTextTracks": Shape(
        source="B bbb-common-web/src/main/scala/org/bigbluebutton/api2/util/RecMetaXmlHelper.scala@08f0c2b4e77f2a807e297ed514f7475f50e82bd5 getRecordingsCaptionsJson; PHP get_recording_text_tracks.json",
        kind="json",
        required=_paths(R, "", "returncode", "tracks"),
        conditional=_cond(
            "tracks",
            "the recording has text tracks",
            f"{R}/tracks",
            "href",
            "kind",
            "label",
            "lang",
            "source",
        ),
        note="Checksum and missing recordID errors come first and are XML (error shape).",
    ),
    "getRecordingTextTracks.error": Shape(
        source="RecMetaXmlHelper.scala (see getRecordingTextTracks): noRecordings / noCaptionsFound",
        kind="json",
        required=_paths(R, "", "returncode", "messageKey", "message"),
    ),
    "putRecordingTextTrack": Shape(
        source="B RecMetaXmlHelper.scala@08f0c2b4e77f2a807e297ed514f7475f50e82bd5 putRecordingTextTrack; PHP put_recording_text_track_success.json",
        kind="json",
        required=_paths(R, "", "returncode", "messageKey", "message", "recordId"),
        note="SUCCESS upload_text_track_success; FAILED upload_text_track_failed has the same keys.",
    ),
    # paramError, invalidKind, invalidLang, noRecordings, empty_uploaded_text_track.
    "putRecordingTextTrack.error": Shape(
        source=f"ganesh-swami/bigbluebutton@10d6ccd5bc7d227658fb92f18bd5f0c054499fb1 {RECORDING_CONTROLLER} putRecordingTextTrack / respondWithError",
        kind="json",
        required=_paths(R, "", "returncode", "messageKey", "message"),
        note="A bad checksum goes through invalid() instead: the XML error shape.",
    ),
    "getJoinUrl": Shape(
        source=f"{U30} {API_CONTROLLER} getJoinUrl; PHP get_join_url.json",
        kind="json",
        required=_paths(R, "", "returncode", "message", "url"),
    ),
    "getJoinUrl.error": Shape(
        source=f"{U30} {API_CONTROLLER} getJoinUrl (reject branch); PHP get_join_url_failed.json",
        kind="json",
        required=_paths(R, "", "returncode", "message"),
        conditional={
            f"{R}/sessionToken": Cond(
                "documented",
                "docs and the PHP fixture show it; the Groovy JsonBuilder closure only names the "
                "variable (no value), so the 3.0 code most likely omits it",
            )
        },
    ),
    # The generic FAILED answer of every XML call (checksumError, missingParamMeetingID, notFound,
    # validationError, sizeError, ...).
    "error": Shape(
        source=f"{V2514} {FTL}/api-error.ftlx lines 1-9; {U30} {API_CONTROLLER} invalid()",
        required=_ERROR,
    ),
    # The legacy multi-error answer (respondWithErrors): create's nonUniqueVoiceBridge.
    "errors": Shape(
        source=f"{V2514} {FTL}/api-errors.ftlx lines 1-17; {U30} {API_CONTROLLER} create -> respondWithErrors",
        required=_paths(
            R,
            "",
            "returncode",
            "errors",
            "errors/error",
            "errors/error/key",
            "errors/error/message",
        ),
    ),
    "hooks/create": Shape(
        source=f"{WH} src/out/webhooks/api/responses.js createSuccess lines 28-34; api.js _create lines 68-126",
        required=_paths(R, "", "returncode", "hookID", "permanentHook", "rawData"),
    ),
    "hooks/create.duplicate": Shape(
        source=f"{WH} src/out/webhooks/api/responses.js createDuplicated lines 41-47",
        required=_paths(R, "", "returncode", "hookID", "messageKey", "message"),
        note="returncode SUCCESS, messageKey duplicateWarning; any later create with the same callbackURL.",
    ),
    "hooks/list": Shape(
        source=f"{WH} src/out/webhooks/api/api.js _list lines 165-217",
        required=_paths(R, "", "returncode", "hooks"),
        conditional={
            **_cond(
                "hooks",
                "at least one hook",
                f"{R}/hooks/hook",
                "",
                "hookID",
                "callbackURL",
                "permanentHook",
                "rawData",
            ),
            f"{R}/hooks/hook/meetingID": Cond(
                "meeting_bound",
                "the hook was created with meetingID; only with bbb-webhooks >= v3.4.0: v3.0.0-v3.3.1 "
                "drop meetingID in HookCompartment.addSubscription and test the wrong field in "
                "isGlobal, so every hook is global and <meetingID> never appears",
            ),
            f"{R}/hooks/hook/eventID": Cond(
                "event_filter", "the hook was created with eventID (even empty: <eventID/>)"
            ),
        },
        note="callbackURL and meetingID are CDATA. v3.0-v3.3 answer listHookError when meetingID is "
        "given (sort bug fixed in v3.4.0).",
    ),
    "hooks/destroy": Shape(
        source=f"{WH} src/out/webhooks/api/responses.js destroySuccess lines 49-53",
        required=_paths(R, "", "returncode", "removed"),
    ),
    # Failures of the three hooks calls: checksumError, missingParamCallbackURL, createHookError,
    # missingParamHookID, destroyMissingHook, destroyHookError, listHookError.
    "hooks/error": Shape(
        source=f"{WH} src/out/webhooks/api/responses.js failure() lines 16-21", required=_ERROR
    ),
    "hooks/ping": Shape(
        source=f"{WH} src/out/webhooks/api/api.js lines 56-59",
        kind="text",
        required=frozenset(),
        note="Plain text body 'bbb-webhooks API up!', no checksum.",
    ),
}

# ---------------------------------------------------------------------------------------------
# What sala may add (documented extensions), per answer of BBB_SHAPES or per sala/Mconf-only call
# ---------------------------------------------------------------------------------------------

MCONF = "shared/reference/mconf-extensions.md (mconf/mconf-api-docs@aa58023)"

_MCONF_RECORDING = "response/meetings/meetingData/recording"

SALA_EXTENSIONS: dict[str, Extension] = {
    "getMeetingInfo": Extension(
        source=f"{MCONF} §1.6",
        paths={
            f"{R}/transfer": "Mconf call transfer flag",
            f"{R}/transferCount": "Mconf call transfer count",
        },
    ),
    "getMeetings": Extension(
        source=f"{MCONF} §1.6",
        paths={
            f"{R}/meetings/meeting/transfer": "Mconf call transfer flag",
            f"{R}/meetings/meeting/transferCount": "Mconf call transfer count",
        },
    ),
    "getRecordings": Extension(
        source=f"{MCONF} §1.5; Scalelite get_recordings.xml.builder (blindsidenetworks/scalelite@08550b7fb474c430bf9fdcfe38c764a1d66b2399)",
        paths={
            f"{R}/nextPage": "Mconf: rows remain after this page",
            f"{R}/recordings/recording/protected": "Scalelite >= 1.2 protected recordings, read by Greenlight v3",
        },
    ),
    "getRecordings.noRecordings": Extension(
        source=f"{MCONF} §1.5", paths={f"{R}/nextPage": "Mconf pagination flag"}
    ),
    "hooks/create": Extension(
        source=f"{MCONF} §1.7.1",
        paths={
            f"{R}/hookGUID": "Mconf hook UUID",
            f"{R}/authToken": "per-hook bearer token for deliveries",
            f"{R}/sharedSecretGUID": "GUID of the secret that created the hook",
        },
    ),
    "hooks/create.duplicate": Extension(
        source=f"{MCONF} §1.7.1 and §7 (duplicate repeats the existing token)",
        paths={f"{R}/authToken": "the existing hook's token", f"{R}/hookGUID": "Mconf hook UUID"},
    ),
    "hooks/list": Extension(
        source=f"{MCONF} §1.7.2",
        paths={
            f"{R}/hooks/hook/hookGUID": "Mconf hook UUID",
            f"{R}/hooks/hook/authToken": "Mconf lists the token",
            f"{R}/hooks/hook/sharedSecretGUID": "GUID of the creating secret",
            f"{R}/hooks/hook/enabled": "Mconf enabled flag",
            f"{R}/hooks/hook/externalMeetingID": "Mconf name for the bound room",
        },
    ),
    # Calls BBB 3.0 does not have.
    "hooks/enable": Extension(
        source=f"{MCONF} §1.7.4",
        paths={
            f"{R}": "",
            f"{R}/returncode": "",
            f"{R}/enabled": "example answer",
            f"{R}/hookID": "schema answer",
            f"{R}/messageKey": "failures (HTTP 400/401/404/422/500)",
            f"{R}/message": "failures",
        },
    ),
    "updateMeeting": Extension(
        source=f"{MCONF} §1.4",
        paths={
            f"{R}": "",
            f"{R}/returncode": "",
            f"{R}/messageKey": "meetingUpdated",
            f"{R}/message": "",
        },
    ),
    "getAllMeetings": Extension(
        source=f"{MCONF} §1.3",
        paths={
            f"{R}": "",
            f"{R}/returncode": "",
            f"{R}/nextPage": "rows remain after this page",
            f"{R}/meetings": "",
            f"{R}/meetings/meetingData": "one per session",
            **{
                f"{R}/meetings/meetingData/meeting/{n}": "getMeetings' meeting children"
                for n in _MEETING_FIELDS
            },
            **{
                p.replace(
                    f"{R}/meetings/meeting", f"{R}/meetings/meetingData/meeting"
                ): "getMeetings' meeting children"
                for p in _meeting_conditionals(f"{R}/meetings/meeting")
            },
            f"{R}/meetings/meetingData/meeting": "",
            f"{R}/meetings/meetingData/meeting/transfer": "Mconf",
            f"{R}/meetings/meetingData/meeting/transferCount": "Mconf",
            _MCONF_RECORDING: "includeRecordings=true",
            **{
                f"{_MCONF_RECORDING}/{n}": "recording summary"
                for n in (
                    "recordID",
                    "meetingID",
                    "internalMeetingID",
                    "name",
                    "isBreakout",
                    "published",
                    "state",
                    "startTime",
                    "endTime",
                    "size",
                    "rawSize",
                    "participants",
                    "metadata",
                    "metadata/*",
                    "playback",
                    "playback/format",
                    "playback/format/type",
                    "playback/format/url",
                    "playback/format/processingTime",
                    "playback/format/length",
                    "playback/format/size",
                    "playback/format/preview",
                    "playback/format/preview/images",
                    "playback/format/preview/images/image",
                    "playback/format/preview/images/image/@width",
                    "playback/format/preview/images/image/@height",
                    "playback/format/preview/images/image/@alt",
                )
            },
        },
    ),
}

# ---------------------------------------------------------------------------------------------
# Helpers for conformance tests
# ---------------------------------------------------------------------------------------------


def _free_containers(allowed: Iterable[str]) -> frozenset[str]:
    return frozenset(p[: -len("/*")] for p in allowed if p.endswith("/*"))


def xml_paths(root: ET.Element | str | bytes, free: Iterable[str] = ()) -> frozenset[str]:
    """Every element (and attribute) path in an XML answer.

    Children of the containers named in ``free`` (paths, e.g. ``response/metadata``) are reported
    as ``<container>/*`` and not descended into.
    """
    node = ET.fromstring(root) if isinstance(root, (str, bytes)) else root
    free_set = frozenset(free)
    out: set[str] = set()

    def walk(el: ET.Element, path: str) -> None:
        out.add(path)
        out.update(f"{path}/@{name}" for name in el.attrib)
        if path in free_set:
            if len(el):
                out.add(f"{path}/*")
            return
        for child in el:
            walk(child, f"{path}/{child.tag}")

    walk(node, node.tag)
    return frozenset(out)


def json_paths(doc: object, prefix: str = "") -> frozenset[str]:
    """Every key path in a JSON answer; list items are flattened into their parent's path."""
    out: set[str] = set()
    if prefix:
        out.add(prefix)
    if isinstance(doc, Mapping):
        for key, value in doc.items():
            out |= json_paths(value, f"{prefix}/{key}" if prefix else str(key))
    elif isinstance(doc, list):
        for item in doc:
            out |= json_paths(item, prefix)
    return frozenset(out)


def paths_for(name: str, answer: ET.Element | str | bytes) -> frozenset[str]:
    """The paths of an XML answer, with the free-form containers of shape ``name`` collapsed."""
    shape = BBB_SHAPES[name]
    extension = SALA_EXTENSIONS.get(name)
    allowed = set(shape.allowed) | (set(extension.paths) if extension else set())
    return xml_paths(answer, _free_containers(allowed))


def problems(name: str, paths: Iterable[str], *tags: str, extensions: bool = True) -> list[str]:
    """What keeps ``paths`` from being BBB 3.0's answer ``name`` in the situation ``tags``.

    Missing: required paths and conditional paths whose tag is given. Unexpected: paths BBB 3.0
    never sends in this answer and that are not a documented extension (when ``extensions``).
    """
    shape = BBB_SHAPES[name]
    got = frozenset(paths)
    expected = shape.expected(*tags)
    allowed = set(shape.allowed)
    extension = SALA_EXTENSIONS.get(name)
    if extensions and extension is not None:
        allowed |= set(extension.paths)
    out = [f"missing {p}" for p in sorted(expected - got)]
    out += [f"unexpected {p}" for p in sorted(got - allowed)]
    return out


def extension_problems(name: str, paths: Iterable[str]) -> list[str]:
    """For calls BBB does not have (getAllMeetings, updateMeeting, hooks/enable): undocumented paths."""
    extension = SALA_EXTENSIONS[name]
    allowed = set(extension.paths)
    return [f"unexpected {p}" for p in sorted(frozenset(paths) - allowed)]
