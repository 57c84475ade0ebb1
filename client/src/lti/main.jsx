// The LTI landing page's entry (/lti/rooms/{token}): the room's fonts, tokens and frame styles,
// the demo page's header pieces, the room's avatars, the page's own styles and words, in the
// launch's language.
import "@fontsource-variable/inter/wght.css";
import "../styles/tokens.css";
import "../styles/base.css";
import "../demo/demo.css";
import "../features/people/people.css";
import "./lti.css";
import { render } from "preact";
import { register } from "../core/i18n.js";
import { applyTheme } from "../core/theme.js";
import { choose } from "../demo/language.js";
import demoWords from "../demo/words.js";
import { LandingPage } from "./LandingPage.jsx";
import words from "./words.js";

register(demoWords);
register(words);
const root = document.getElementById("lti-app");
// The launch's language (the platform's locale); the picker changes it for this page only.
choose(root.dataset.lang || "en-US", false);
applyTheme();
render(<LandingPage base={root.dataset.base} title={root.dataset.title} />, root);
