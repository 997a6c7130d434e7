// Webhook generator templates render on the event loop: the actions that loop or recurse are
// refused before parsing, naming the field; plain substitutions pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseLoopingTemplate } from '../../../src/generators/webhook.ts';

test('range, template, block, define, break and continue are refused, naming the field and the action', () => {
  for (const [text, action] of [
    ['{{range .s}}{{range .s}}{{range .s}}{{end}}{{end}}{{end}}', 'range'],
    ['{{- range $k, $v := .s }}x{{ end }}', 'range'],
    ['{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}', 'define'],
    ['a {{ block "b" . }}{{ end }}', 'block'],
  ] as const) {
    assert.throws(() => refuseLoopingTemplate('spec.body', text), (e: Error) => e.message.includes('spec.body') && e.message.includes(`"${action}" action is not allowed`), text);
  }
});

test('plain substitutions, pipelines, if and with pass', () => {
  for (const text of ['{{ .auth.token }}', 'Bearer {{ .creds.apikey | printf "%s" }}', '{{ if .a.b }}x{{ else }}y{{ end }}', '{{ with .a }}{{ .b }}{{ end }}', 'https://h/{{ .a.ranged }}']) {
    assert.doesNotThrow(() => refuseLoopingTemplate('spec.url', text), text);
  }
});
