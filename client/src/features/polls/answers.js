// BBB's preset poll answers are keys (Yes, No, True, False): each page shows them in its own
// language, in the poll dialog, the results and the result drawn on the slide.
import { t } from "../../core/i18n.js";

export const PRESET_KEYS = ["Yes", "No", "True", "False"];

export function answerText(key) {
  return PRESET_KEYS.includes(key) ? t(`poll${key}`) : key;
}
