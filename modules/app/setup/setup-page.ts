/*
 * The setup page: one small HTML document (no external assets, well under 16 KB) with a
 * form for every setting, usable on a phone, posting JSON to /settings with the code.
 *
 * - Non-secret fields show the device's current value as their placeholder; a field
 *   left blank keeps the current value (it is not sent). Secret fields (WiFi password,
 *   MQTT password, client key) never show anything stored, only whether one is.
 * - The answer is shown under the form: problems next to their fields (400), or the
 *   code and rate-limit messages (401, 429, 413).
 * - Every value put in the page is HTML-escaped.
 */

import type { RawConfig } from "../config/config";

interface Field { key: string; label: string; kind: "text" | "password" | "number" | "area" | "bool" }

const FIELDS: readonly Field[] = Object.freeze([
	{ key: "ssid", label: "WiFi network", kind: "text" },
	{ key: "password", label: "WiFi password", kind: "password" },
	{ key: "mqttHost", label: "Broker host", kind: "text" },
	{ key: "mqttPort", label: "Broker port", kind: "number" },
	{ key: "deviceId", label: "Device id", kind: "text" },
	{ key: "mqttUser", label: "MQTT user", kind: "text" },
	{ key: "mqttPassword", label: "MQTT password", kind: "password" },
	{ key: "topicPrefix", label: "Topic prefix", kind: "text" },
	{ key: "haDiscovery", label: "Home Assistant discovery", kind: "bool" },
	{ key: "clientCert", label: "Client certificate (PEM, mutual TLS)", kind: "area" },
	{ key: "clientKey", label: "Client key (PKCS#8 PEM, unencrypted)", kind: "area" },
].map(field => Object.freeze(field)) as Field[]);

const SECRET = new Set(["password", "mqttPassword", "clientKey"]);

function escape(text: string): string {
	return text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`);
}

function current(raw: RawConfig, key: string): string {
	const value = raw[key];
	if (SECRET.has(key))
		return value ? "stored: blank keeps it" : "";
	if (key === "clientCert")
		return value ? "bundled or stored: blank keeps it" : "";
	return value === undefined || value === null ? "" : escape(String(value));
}

function input(field: Field, raw: RawConfig): string {
	const hint = current(raw, field.key);
	const name = `id="${field.key}" name="${field.key}"`;
	const control = field.kind === "bool"
		? `<select ${name}><option value="">keep (${hint || "off"})</option><option>true</option><option>false</option></select>`
		: field.kind === "area"
			? `<textarea ${name} rows="4" placeholder="${hint}"></textarea>`
			: `<input ${name} type="${field.kind}" placeholder="${hint}" autocomplete="off"${field.kind === "number" ? ' inputmode="numeric"' : ""}>`;
	return `<label for="${field.key}">${field.label}</label>${control}<small id="e-${field.key}"></small>`;
}

const STYLE = "body{font:16px system-ui,sans-serif;margin:0 auto;max-width:32em;padding:1em}label{display:block;margin-top:.8em;font-weight:600}input,select,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.4em}small{color:#b00;display:block}button{margin-top:1em;width:100%;padding:.7em;font:inherit}#result{margin-top:1em;font-weight:600}";

// Blank fields are not sent; the number and the boolean are sent as JSON types.
const SCRIPT = `document.getElementById("f").onsubmit=async e=>{e.preventDefault();
const f=e.target,b={},r=document.getElementById("result");
for(const el of f.elements){if(!el.name||el.name==="code"||el.value==="")continue;
b[el.name]=el.name==="mqttPort"&&/^\\d+$/.test(el.value)?Number(el.value):el.name==="haDiscovery"?el.value==="true":el.value}
for(const s of document.querySelectorAll("small"))s.textContent="";
r.textContent="Sending...";let a,t;
try{a=await fetch("/settings",{method:"POST",headers:{"Content-Type":"application/json",Authorization:"Bearer "+f.code.value.trim()},body:JSON.stringify(b)});t=await a.json()}catch(x){r.textContent="No answer: "+x;return}
if(a.status===200){r.textContent="Stored. The device restarts with these settings.";return}
if(a.status===400){r.textContent="Please correct the marked settings.";for(const k in t.errors){const s=document.getElementById("e-"+k);if(s)s.textContent=t.errors[k];else r.textContent+=" "+k+": "+t.errors[k]}return}
r.textContent=(a.status===429?"Too many wrong codes: wait and retry. ":"")+(t.error||("Error "+a.status))}`;

export function renderPage(raw: RawConfig): string {
	return "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">" +
		`<title>Device setup</title><style>${STYLE}</style></head><body><h1>Device setup</h1>` +
		"<p>The setup code is printed on the device's console when setup opens.</p>" +
		"<form id=\"f\"><label for=\"code\">Setup code</label><input id=\"code\" name=\"code\" required autocomplete=\"off\" autocapitalize=\"none\">" +
		FIELDS.map(field => input(field, raw)).join("") +
		"<button type=\"submit\">Save and restart</button></form><p id=\"result\" role=\"status\"></p>" +
		`<script>${SCRIPT}</script></body></html>`;
}
