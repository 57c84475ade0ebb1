// The room's entry point: styles, then the application mounted on <div id="app">.
import "@fontsource-variable/inter/wght.css";
import "./styles/tokens.css";
import "./styles/base.css";
import { render } from "preact";
import { App } from "./ui/App.jsx";
import { connect } from "./core/connection.js";
import { setLocale } from "./core/i18n.js";
import { applyTheme } from "./core/theme.js";

setLocale(null);
applyTheme();
render(<App />, document.getElementById("app"));
connect();
