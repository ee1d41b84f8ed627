/*
 * The tests' stand-in for Home Assistant's template rendering (tools/harness/ha-template.ts).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { renderTemplate } from "../../tools/harness/ha-template";

test("ha-template: paths with dots and indexes render like Jinja", () => {
	const state = JSON.stringify({ gpio: { led: 1, items: 0 }, values: { t: 21.5 }, online: true });
	assert.equal(renderTemplate("{{value_json['gpio']['led']}}", state), "1");
	assert.equal(renderTemplate("{{ value_json.gpio.led }}", state), "1");
	assert.equal(renderTemplate("{{value_json['gpio']['items']}}", state), "0");
	assert.equal(renderTemplate("{{value_json['values']['t']}}", state), "21.5");
	assert.equal(renderTemplate("{{value_json.online}}", state), "True");
	assert.equal(renderTemplate("{{value_json['gpio']['missing']}}", state), "");
});

test("ha-template: the conditional form", () => {
	const template = "{{'online' if value_json.online else 'offline'}}";
	assert.equal(renderTemplate(template, "{\"online\":true}"), "online");
	assert.equal(renderTemplate(template, "{\"online\":false}"), "offline");
	assert.equal(renderTemplate(template, "{}"), "offline");
});

test("ha-template: anything else is refused, not guessed", () => {
	assert.throws(() => renderTemplate("{{ value_json.a | int }}", "{}"), /not a value_json path/);
	assert.throws(() => renderTemplate("value_json.a", "{}"), /not a template/);
});
