// For instructors: the course's members as the platform lists them (Names and Role Provisioning
// Services), each with how many sessions of this activity's meeting they entered and when last.
import { useEffect, useState } from "preact/hooks";
import { t } from "../core/i18n.js";
import { Avatar } from "../features/people/Avatar.jsx";
import { call } from "./api.js";
import { when } from "./time.js";

function roleLabel(role) {
  const key = `lti.role.${role}`;
  const word = t(key);
  return word === key ? role : word;
}

export function Roster({ base }) {
  const [members, setMembers] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    call(base, "roster").then(({ body, error: code }) => (body ? setMembers(body.members) : setError(code)));
  }, [base]);
  const attended = members ? members.filter((m) => m.sessions > 0).length : 0;
  return (
    <section class="demo-card lti-section" aria-labelledby="roster-title" id="roster">
      <div class="lti-section-head">
        <h2 id="roster-title">{t("lti.roster")}</h2>
        {members && members.length > 0 && (
          <p class="lti-summary">{t("lti.rosterSummary", { attended, total: members.length })}</p>
        )}
      </div>
      {error && <p class="demo-error" role="alert">{t("lti.rosterUnavailable")}</p>}
      {!members && !error && <p class="demo-note">{t("lti.loading")}</p>}
      {members && (
        <div class="lti-table-wrap">
          <table class="lti-table">
            <caption class="visually-hidden">{t("lti.rosterCaption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("lti.name")}</th>
                <th scope="col">{t("lti.role")}</th>
                <th scope="col" class="num">{t("lti.sessions")}</th>
                <th scope="col">{t("lti.lastJoined")}</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m, i) => (
                <tr key={i} class={m.sessions ? "attended" : "absent"}>
                  <th scope="row">
                    <span class="lti-member">
                      <Avatar user={{ id: m.name, name: m.name }} size={28} />
                      <span>{m.name}</span>
                    </span>
                  </th>
                  <td class="muted">{m.roles.map(roleLabel).join(", ")}</td>
                  <td class="num"><span class="lti-count">{m.sessions}</span></td>
                  <td class={m.lastJoined ? "" : "muted"}>{m.lastJoined ? when(m.lastJoined) : t("lti.never")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
