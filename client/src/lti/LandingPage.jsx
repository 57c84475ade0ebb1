// The landing page of an LTI activity: its title and course, Join (or the wait for the
// instructor), the meeting's state, the activity's recordings and, for instructors, the course's
// roster with attendance. The state is read again every few seconds, so the page follows the
// meeting while it stays open in the course.
import { useEffect, useRef, useState } from "preact/hooks";
import { ArrowLeft, CircleDot, Hourglass, Loader2, LogIn, ShieldCheck, UserRound } from "lucide-preact";
import { t } from "../core/i18n.js";
import { ThemeToggle } from "../ui/ThemeToggle.jsx";
import { LanguagePicker } from "../demo/LanguagePicker.jsx";
import { Avatar } from "../features/people/Avatar.jsx";
import { call } from "./api.js";
import { Recordings } from "./Recordings.jsx";
import { Roster } from "./Roster.jsx";
import { since } from "./time.js";

const STATE_EVERY_MS = 10_000;
const WAIT_EVERY_MS = 5_000;

// What the meeting is doing now: live since when and who is in it (with the room's avatars), or
// not started and what happens next for this person.
function MeetingState({ meeting, instructor, waitForModerator }) {
  const people = meeting.participants;
  let hint = t("lti.nobody");
  if (instructor) hint = t("lti.startsWithYou");
  else if (waitForModerator) hint = t("lti.startsWithInstructor");
  return (
    <div class={`lti-meeting ${meeting.running ? "live" : ""}`} id="meeting-state">
      <p class="lti-status">
        <span class="lti-dot" aria-hidden="true" />
        {meeting.running ? t("lti.running", { time: since(meeting.since) }) : t("lti.notRunning")}
      </p>
      {meeting.running ? (
        <>
          <h2 id="people-title" class="lti-label">{t("lti.inMeeting", { count: people.length })}</h2>
          <ul class="lti-people" aria-labelledby="people-title">
            {people.map((p, i) => (
              <li key={i}>
                <Avatar user={{ id: p.name, name: p.name, role: p.moderator ? "MODERATOR" : "VIEWER" }} size={28} />
                <span class="lti-person">{p.name}</span>
                {p.moderator && <span class="lti-tag">{t("lti.moderator")}</span>}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p class="lti-hint">{hint}</p>
      )}
    </div>
  );
}

export function LandingPage({ base, title }) {
  const [state, setState] = useState(null);
  const [error, setError] = useState("");
  const [joining, setJoining] = useState(false);
  const [waiting, setWaiting] = useState(false);
  const waitTimer = useRef(0);

  async function refresh() {
    const { body, error: code } = await call(base, "state");
    if (body) {
      setState(body);
      setError("");
    } else setError(code);
  }
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, STATE_EVERY_MS);
    return () => {
      clearInterval(timer);
      clearTimeout(waitTimer.current);
    };
  }, [base]);
  useEffect(() => {
    document.title = `${state?.title || title} · sala`;
  }, [state, title]);

  async function join() {
    setJoining(true);
    setError("");
    const { body, error: code } = await call(base, "join", "POST");
    if (body?.url) {
      location.assign(body.url);
      return;
    }
    if (body?.waiting) {
      setWaiting(true);
      waitTimer.current = setTimeout(join, WAIT_EVERY_MS);
      return;
    }
    setJoining(false);
    setWaiting(false);
    setError(code || "other");
  }
  function stopWaiting() {
    clearTimeout(waitTimer.current);
    setWaiting(false);
    setJoining(false);
  }

  const joinButton = (
    <button id="join" type="button" class="lti-join" disabled={joining || !state} onClick={join}>
      {joining ? <Loader2 class="spin" size={18} aria-hidden="true" /> : <LogIn size={18} aria-hidden="true" />}
      {t(joining ? "lti.joining" : "lti.join")}
    </button>
  );
  return (
    <div class="demo lti">
      <header class="demo-top">
        <span class="wordmark demo-brand">sala</span>
        <div class="demo-tools">
          <LanguagePicker />
          <ThemeToggle label={t("lti.theme")} />
        </div>
      </header>
      <main class="lti-main">
        <section class="demo-card lti-activity" aria-labelledby="activity-title">
          <div class="lti-activity-head">
            <div class="lti-heading">
              {state?.context && <p class="lti-eyebrow" id="activity-context">{state.context}</p>}
              <h1 id="activity-title">{state?.title || title}</h1>
              {state && (
                <ul class="lti-facts">
                  <li id="your-role">
                    {state.instructor ? <ShieldCheck size={16} aria-hidden="true" /> : <UserRound size={16} aria-hidden="true" />}
                    {t(state.instructor ? "lti.youInstructor" : "lti.youLearner")}
                  </li>
                  {state.record && <li><CircleDot size={16} aria-hidden="true" />{t("lti.recorded")}</li>}
                  {state.waitForModerator && <li><Hourglass size={16} aria-hidden="true" />{t("lti.waitsForModerator")}</li>}
                </ul>
              )}
            </div>
            {!waiting && joinButton}
          </div>
          {state && !waiting && <MeetingState meeting={state.meeting} instructor={state.instructor} waitForModerator={state.waitForModerator} />}
          {!state && !error && <p class="demo-note">{t("lti.loading")}</p>}
          {waiting && (
            <div id="waiting" class="lti-waiting" role="status">
              <Loader2 class="spin" size={22} aria-hidden="true" />
              <div>
                <h2 class="lti-subtitle">{t("lti.waitingTitle")}</h2>
                <p>{t("lti.waiting")}</p>
              </div>
              <button id="stop-waiting" type="button" class="secondary" onClick={stopWaiting}>{t("lti.cancelWait")}</button>
            </div>
          )}
          {error && <p id="landing-error" class="demo-error" role="alert">{t(`lti.error.${error === "session" || error === "network" ? error : "other"}`)}</p>}
          {state?.returnUrl && (
            <a class="lti-back" href={state.returnUrl} target="_top"><ArrowLeft size={16} aria-hidden="true" />{t("lti.back")}</a>
          )}
        </section>
        {state && <Recordings base={base} instructor={state.instructor} recordings={state.recordings} onChanged={refresh} />}
        {state?.roster && <Roster base={base} />}
      </main>
    </div>
  );
}
