// The demo page's entry (/demo): the room's fonts, tokens and frame styles, the page's own
// styles and words, then the view the server's shell names in #demo-app's data-view.
import "@fontsource-variable/inter/wght.css";
import "../styles/tokens.css";
import "../styles/base.css";
import "./demo.css";
import { render } from "preact";
import { register } from "../core/i18n.js";
import { applyTheme } from "../core/theme.js";
import { startLanguage } from "./language.js";
import { DemoPage } from "./DemoPage.jsx";
import words from "./words.js";

register(words);
startLanguage();
applyTheme();
const root = document.getElementById("demo-app");
render(<DemoPage shell={{ ...root.dataset }} />, root);
