// Drives a running BBB-compatible server (sala) through the npm client `bigbluebutton-js` 0.2.0
// and prints ONE JSON document with what the library handed back for every step.
//
//   BBB_URL=http://127.0.0.1:PORT/bigbluebutton/  BBB_SECRET=...  BBB_TEST_INPUT='{...}' \
//     node bigbluebutton_js_scenarios.mjs <scenario>
//
// Scenarios: version | lifecycle | end | recordings | hooks | wrong-secret. BBB_TEST_INPUT carries the
// values to send (meeting IDs, names, passwords, metadata...) so that the Python side can compare
// what it asked for with what the library parsed. Each step is recorded as
//   {"url": <URL the library built>, "ok": true, "value": <parsed response>}  or
//   {"url": ..., "ok": false, "error": {"name", "message", "status"}}   (the library threw)
// The script itself never asserts; it exits non-zero only on a bad invocation or an internal bug.
//
// Library facts this relies on (see ../README.md): bbb.api(host, secret) only *builds* URLs
// (`<host>/api/<call>?<querystring.encode(params)>&checksum=sha1(call+query+secret)`);
// bbb.http(url) GETs with axios and parses with fast-xml-parser 3 (numbers and true/false become
// JS numbers/booleans, entities are NOT decoded, <meetings>/<recordings> lists are normalised to
// arrays only when non-empty); FAILED answers are returned, not thrown.

import bbb from 'bigbluebutton-js'

const POLL_TIMEOUT_MS = 10000
const POLL_INTERVAL_MS = 200

function env(name) {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is required`)
  }
  return value
}

async function step(url) {
  try {
    return { url, ok: true, value: await bbb.http(url) }
  } catch (err) {
    return {
      url,
      ok: false,
      error: { name: err?.name ?? 'Error', message: String(err?.message ?? err), status: err?.response?.status ?? null },
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Re-issue `makeUrl()` until `done(parsed)` holds or the timeout passes; returns the last step.
async function pollUntil(makeUrl, done) {
  const deadline = Date.now() + POLL_TIMEOUT_MS
  for (;;) {
    const result = await step(makeUrl())
    if ((result.ok && done(result.value)) || Date.now() >= deadline) {
      return result
    }
    await sleep(POLL_INTERVAL_MS)
  }
}

function metaParams(meta) {
  return Object.fromEntries(Object.entries(meta ?? {}).map(([key, value]) => [`meta_${key}`, value]))
}

const scenarios = {
  async version({ baseUrl }) {
    // The library has no root call; a user fetches <host>/api with its http() helper.
    const host = baseUrl.replace(/\/$/, '')
    return {
      root: await step(`${host}/api`),
      rootSlash: await step(`${host}/api/`),
    }
  },

  async lifecycle({ client, input }) {
    const { administration: admin, monitoring: mon } = client
    const m = input.meeting
    const createParams = {
      attendeePW: m.attendeePW,
      moderatorPW: m.moderatorPW,
      welcome: m.welcome,
      moderatorOnlyMessage: 'Only for moderators',
      duration: m.duration,
      record: true,
      maxParticipants: m.maxParticipants,
      logoutURL: 'https://lms.example.org/after?x=1&y=2',
      ...metaParams(m.meta),
    }
    const out = {}
    out.create = await step(admin.create(m.name, m.meetingID, createParams))
    out.createDuplicate = await step(admin.create(m.name, m.meetingID, createParams))
    out.createConflict = await step(
      admin.create(m.name, m.meetingID, { ...createParams, attendeePW: 'other-ap', moderatorPW: 'other-mp' }))
    out.createOther = await step(admin.create(input.other.name, input.other.meetingID, {
      attendeePW: 'ap-other', moderatorPW: 'mp-other',
    }))

    out.runningUnknown = await step(mon.isMeetingRunning(input.unknownMeetingID))
    out.runningBefore = await step(mon.isMeetingRunning(m.meetingID))
    out.info = await step(mon.getMeetingInfo(m.meetingID))
    out.infoUnknown = await step(mon.getMeetingInfo(input.unknownMeetingID))

    const user = input.user
    out.joinModerator = await step(admin.join(user.fullName, m.meetingID, m.moderatorPW,
      { redirect: 'false', userID: user.userID, 'userdata-bbb_auto_join_audio': 'false' }))
    out.joinViewer = await step(admin.join('Grace Hopper', m.meetingID, m.attendeePW, { redirect: false }))
    out.joinWrongPassword = await step(admin.join('Eve', m.meetingID, 'not-a-password', { redirect: 'false' }))
    out.joinUnknown = await step(admin.join('Eve', input.unknownMeetingID, m.moderatorPW, { redirect: 'false' }))
    // Redirecting join URLs: the Python side GETs them without following redirects.
    out.joinUrls = {
      moderator: admin.join(user.fullName, m.meetingID, m.moderatorPW),
      viewer: admin.join('Grace Hopper', m.meetingID, m.attendeePW),
      unknownMeeting: admin.join('Eve', input.unknownMeetingID, m.moderatorPW),
    }
    out.runningAfterJoin = await step(mon.isMeetingRunning(m.meetingID))
    out.infoAfterJoin = await step(mon.getMeetingInfo(m.meetingID))

    out.meetings = await step(mon.getMeetings())
    return out
  },

  // Run after `lifecycle` (and after the caller followed the redirecting join URLs).
  async end({ client, input }) {
    const { administration: admin, monitoring: mon } = client
    const m = input.meeting
    const out = {}
    out.end = await step(admin.end(m.meetingID, m.moderatorPW))
    out.infoAfterEnd = await pollUntil(() => mon.getMeetingInfo(m.meetingID), (v) => v.returncode === 'FAILED')
    out.runningAfterEnd = await step(mon.isMeetingRunning(m.meetingID))
    out.endAgain = await step(admin.end(m.meetingID, m.moderatorPW))
    out.joinAfterEnd = await step(admin.join('Late', m.meetingID, m.moderatorPW, { redirect: 'false' }))
    // The library signs an omitted password as "password=" (querystring turns undefined into '').
    out.endOtherWithoutPassword = await step(admin.end(input.other.meetingID))
    return out
  },

  async recordings({ client, input }) {
    const rec = client.recording
    return {
      byMeeting: await step(rec.getRecordings({ meetingID: input.meetingID })),
      byRecordID: await step(rec.getRecordings({ recordID: input.recordID })),
      byMeta: await step(rec.getRecordings({ meetingID: input.meetingID, 'meta_bbb-origin': 'nobody' })),
      byState: await step(rec.getRecordings({ meetingID: input.meetingID, state: 'any' })),
      all: await step(rec.getRecordings()),
      publish: await step(rec.publishRecordings(input.recordID, true)),
      unpublish: await step(rec.publishRecordings(input.recordID, false)),
      delete: await step(rec.deleteRecordings(input.recordID)),
      update: await step(rec.updateRecordings(input.recordID, { 'meta_gl-listed': 'false' })),
    }
  },

  async hooks({ client, input }) {
    const hooks = client.hooks
    const out = {}
    out.create = await step(hooks.create(input.callbackURL, { meetingID: input.meetingID }))
    out.createDuplicate = await step(hooks.create(input.callbackURL, { meetingID: input.meetingID }))
    out.createGlobal = await step(hooks.create(input.globalCallbackURL))
    out.createMissingUrl = await step(hooks.create(''))
    out.list = await step(hooks.list())
    const ids = [out.create, out.createGlobal]
      .filter((s) => s.ok && s.value.returncode === 'SUCCESS')
      .map((s) => s.value.hookID)
    out.destroy = []
    for (const id of ids) {
      out.destroy.push(await step(hooks.destroy(id)))
    }
    out.destroyAgain = ids.length ? await step(hooks.destroy(ids[0])) : null
    out.listAfter = await step(hooks.list())
    return out
  },

  async 'wrong-secret'({ client, wrongClient, input }) {
    return {
      create: await step(wrongClient.administration.create(input.name, input.meetingID, { record: true })),
      infoWithGoodSecret: await step(client.monitoring.getMeetingInfo(input.meetingID)),
      getMeetings: await step(wrongClient.monitoring.getMeetings()),
      isMeetingRunning: await step(wrongClient.monitoring.isMeetingRunning(input.meetingID)),
      getMeetingInfo: await step(wrongClient.monitoring.getMeetingInfo(input.meetingID)),
      getRecordings: await step(wrongClient.recording.getRecordings({ meetingID: input.meetingID })),
      hooksList: await step(wrongClient.hooks.list()),
      join: await step(wrongClient.administration.join('Mallory', input.meetingID, 'x', { redirect: 'false' })),
    }
  },
}

async function main() {
  const name = process.argv[2]
  const scenario = scenarios[name]
  if (!scenario) {
    throw new Error(`usage: node bigbluebutton_js_scenarios.mjs <${Object.keys(scenarios).join('|')}>`)
  }
  const baseUrl = env('BBB_URL')
  const secret = env('BBB_SECRET')
  const input = JSON.parse(process.env.BBB_TEST_INPUT || '{}')
  const context = {
    baseUrl,
    input,
    client: bbb.api(baseUrl, secret),
    wrongClient: bbb.api(baseUrl, `${secret}-wrong`),
  }
  const result = await scenario(context)
  process.stdout.write(JSON.stringify({ scenario: name, library: 'bigbluebutton-js', result }) + '\n')
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`)
  process.exit(2)
})
