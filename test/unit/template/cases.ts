// Differential test cases: rendered by both Tessera's engine and the Go reference (test/template-ref).

import type { RefCase } from './goref.ts';

export interface DiffCase extends RefCase {
  // 'exact' (default): error strings must match; 'any': both must fail
  errors?: 'exact' | 'any';
}

const cases: DiffCase[] = [];
let n = 0;

// ESO-style data: map[string]string
function e(template: string, data: Record<string, string> = {}, extra: Partial<DiffCase> = {}): void {
  cases.push({ name: `c${n++}`, template, data, dataMode: 'eso', ...extra });
}
// JSON data: map[string]interface{} with float64 numbers
function j(template: string, data: unknown = {}, extra: Partial<DiffCase> = {}): void {
  cases.push({ name: `c${n++}`, template, data, dataMode: 'json', ...extra });
}

const sd = { user: 'admin', pass: 'p@ss w0rd', host: 'db.example.com', port: '5432', empty: '', num: '42', neg: '-7', flt: '3.25', csv: 'a,b,,c', json: '{"a":1,"b":[true,null,"x"],"c":{"d":"e"}}', uni: 'héllo wörld ✓ 日本', ws: '  padded\t\n', multi: 'line1\nline2\nline3', b64: 'aGVsbG8gd29ybGQ=', bad64: 'aGVsbG8@d29ybGQ', upper: 'HELLO World', html: '<a href="x">&\'</a>' };
const jd = { s: 'str', i: 3, f: 2.5, big: 1e21, neg: -4, z: 0, t: true, fl: false, n: null, l: [1, 'two', 3.5, null, true], e: [], m: { b: 2, a: 1, c: { d: 'deep' } }, em: {}, ls: ['b', 'a', 'c'], nested: [{ name: 'x', v: 1 }, { name: 'y', v: 2 }] };

// ---------------------------------------------------------------- text, actions, comments, trim
e('plain text');
e('');
e('{{.user}}', sd);
e('{{ .user }}:{{ .pass }}@{{ .host }}:{{ .port }}', sd);
e('a {{- " b " -}} c');
e('a  \n {{- .user }}', sd);
e('{{ .user -}}  \n  b', sd);
e('{{- /* comment */ -}}  x');
e('x {{/* c */}} y');
e('{{/* multi\nline */}}z');
e('{{- 3 }}');
e('{{ -3 }}');
e('{{3 -}} x');
e('{{"\\u00e9\\x41\\101\\t"}}');
e('{{`raw\\n`}}');
e("{{'a'}} {{'\\n'}} {{'日'}}");
e('{{ 1.0 }} {{ 1e3 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ .5 }} {{ 2. }} {{ 0x1p4 }}');
e('{{ 9223372036854775807 }}');
e('{{ 9223372036854775808 }}');
e('{{ -9223372036854775808 }}');
e('{{ 1e400 }}');
e('{{ true }} {{ false }}');
e('{{ nil }}');
e('{{ . }}', { a: 'x' });
e('{{ $ }}', { a: 'x' });
e('{{ .user.x }}', sd);
e('{{ .missing }}', sd);
e('{{ .missing }}', sd, { missingKey: 'default' });
e('{{ .missing }}', sd, { missingKey: 'zero' });
e('{{ .missing.x }}', sd, { missingKey: 'default' });
j('{{ .missing }}', jd, { missingKey: 'zero' });
j('{{ .n }}', jd);
j('{{ .n.x }}', jd);
j('{{ .m.c.d }} {{ .m.a }} {{ .m }}', jd);
j('{{ .l }} {{ .e }} {{ .em }} {{ .nested }}', jd);
j('{{ .i }} {{ .f }} {{ .big }} {{ .neg }} {{ .z }} {{ .t }} {{ .fl }}', jd);
j('{{ .s.x }}', jd);
j('{{ .l.x }}', jd);
j('{{ . }}', null);
j('{{ .x }}', null);
j('{{ .x }}', null, { missingKey: 'default' });
j('{{ .x }}', [1, 2]);

// ---------------------------------------------------------------- variables
e('{{ $x := .user }}{{ $x }}', sd);
e('{{ $x := 1 }}{{ $x = 2 }}{{ $x }}');
e('{{ $x := 1 }}{{ if true }}{{ $x = 3 }}{{ end }}{{ $x }}');
e('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}');
e('{{ $x = 1 }}');
e('{{ $.user }}', sd);
e('{{ $x := . }}{{ $x.user }}', sd);
e('{{ $a, $b := 1 }}');
e('{{ range $i, $v := splitList "," .csv }}{{ $i }}={{ $v }};{{ end }}', sd);
e('{{ range $v := splitList "," .csv }}[{{ $v }}]{{ end }}', sd);
e('{{ $i := 0 }}{{ range $i, $v = list 1 2 }}{{ end }}{{ $i }}', sd);
e('{{ range $i, $v := list 1 2 }}{{ $i }}{{ end }}{{ $i }}');
e('{{ with $x := .user }}{{ $x }}{{ end }}', sd);
e('{{ $x := "a" }}{{ range list 1 2 }}{{ $x }}{{ $x = "b" }}{{ end }}{{ $x }}');

// ---------------------------------------------------------------- if / else / with / range
e('{{ if .user }}yes{{ end }}', sd);
e('{{ if .empty }}yes{{ else }}no{{ end }}', sd);
e('{{ if eq .port "5432" }}pg{{ else if eq .port "3306" }}my{{ else }}?{{ end }}', sd);
e('{{ if eq .port "1" }}a{{ else if eq .port "2" }}b{{ else if eq .port "5432" }}c{{ end }}', sd);
e('{{ with .user }}[{{ . }}]{{ end }}', sd);
e('{{ with .empty }}[{{ . }}]{{ else }}none{{ end }}', sd);
e('{{ with .empty }}a{{ else with .user }}b:{{ . }}{{ else }}c{{ end }}', sd);
j('{{ if .z }}t{{ else }}f{{ end }}{{ if .f }}t{{ end }}{{ if .e }}t{{ else }}f{{ end }}{{ if .em }}t{{ else }}f{{ end }}{{ if .n }}t{{ else }}f{{ end }}', jd);
j('{{ if .m }}t{{ end }}{{ if .l }}t{{ end }}{{ if .fl }}t{{ else }}f{{ end }}', jd);
j('{{ range .l }}<{{ . }}>{{ end }}', jd);
j('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', jd);
j('{{ range .m }}{{ . }},{{ end }}', jd);
j('{{ range .e }}x{{ else }}empty{{ end }}', jd);
j('{{ range .em }}x{{ else }}empty{{ end }}', jd);
j('{{ range .n }}x{{ else }}nil{{ end }}', jd);
j('{{ range .s }}x{{ end }}', jd);
j('{{ range .t }}x{{ end }}', jd);
j('{{ range .f }}x{{ end }}', jd);
e('{{ range 3 }}{{ . }}{{ end }}');
e('{{ range $i := 3 }}{{ $i }}{{ end }}');
e('{{ range $i, $j := 3 }}{{ $i }}{{ end }}');
e('{{ range 0 }}x{{ else }}none{{ end }}');
e('{{ range -2 }}x{{ else }}neg{{ end }}');
e('{{ range $i, $v := list "a" "b" "c" }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $v }}{{ end }}');
e('{{ range $i, $v := list "a" "b" "c" }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $v }}{{ end }}');
e('{{ range list 1 2 }}{{ range list "a" "b" }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}{{ . }}{{ end }}');
e('{{ break }}');
e('{{ continue }}');
e('{{ range list 1 }}{{ break 1 }}{{ end }}');
j('{{ range .nested }}{{ .name }}:{{ .v }} {{ end }}', jd);
j('{{ range $x := .nested }}{{ $x.name }}{{ end }}', jd);
e('{{ range $k, $v := . }}{{ $k }}={{ $v }}\n{{ end }}', { b: '2', a: '1', c: '3', 'Z': 'z', 'é': 'acute' });
e('{{ if }}{{ end }}');
e('{{ if true }}');
e('{{ end }}');
e('{{ else }}');
e('{{ if true }}a{{ else }}b{{ else }}c{{ end }}');
e('{{ range }}{{ end }}');
e('{{ with }}{{ end }}');
e('{{ if true }}{{ else if }}{{ end }}');
e('{{ if 1 }}a{{ end }}{{ if 0 }}b{{ end }}{{ if 0.0 }}c{{ end }}{{ if "" }}d{{ end }}{{ if "0" }}e{{ end }}');

// ---------------------------------------------------------------- define / template / block
e('{{ define "x" }}X({{ . }}){{ end }}{{ template "x" .user }}', sd);
e('{{ define "x" }}X{{ end }}{{ template "x" }}');
e('{{ template "nope" }}');
e('{{ define "a" }}A{{ template "b" . }}{{ end }}{{ define "b" }}B{{ . }}{{ end }}{{ template "a" 1 }}');
e('{{ block "b" .user }}default:{{ . }}{{ end }}', sd);
e('{{ define "b" }}override{{ end }}{{ block "b" . }}default{{ end }}');
e('{{ define "x" }}1{{ end }}{{ define "x" }}2{{ end }}');
e('{{ define "x" }} {{ end }}{{ define "x" }}2{{ end }}{{ template "x" }}');
e('{{ define "x" }}{{ $ }}{{ end }}{{ template "x" "dollar" }}');
e('{{ define "x" }}{{ .missing }}{{ end }}{{ template "x" . }}', sd);
e('{{ define "x" }}{{ end }}');
e('{{ define "x" }}a{{ else }}b{{ end }}');
e('{{ define x }}{{ end }}');
e('{{ template x }}');
e('{{ define "rec" }}{{ if gt (len .) 0 }}{{ first . }}{{ template "rec" (rest .) }}{{ end }}{{ end }}{{ template "rec" (list 1 2 3) }}');
e('{{ define "c0" }}{{ .user }}{{ end }}{{- template "c0" . -}}', sd);

// ---------------------------------------------------------------- parse errors
e('{{');
e('{{ .user');
e('{{ .user }');
e('}}');
e('{{ "unterminated }}');
e('{{ `raw }}');
e("{{ 'ab' }}");
e("{{ 'a }}");
e('{{ ( }}');
e('{{ ) }}');
e('{{ (1 }}');
e('{{ 1) }}');
e('{{ .a.b. }}');
e('{{ .a | }}');
e('{{ | .a }}');
e('{{ nosuchfunc }}');
e('{{ $undefined }}');
e('{{ .user | "x" }}', sd);
e('{{ 1 2 }}');
e('{{ "a" "b" }}');
e('{{ .user "x" }}', sd);
e('{{ 3.x }}');
e('{{ "s".x }}');
e('{{ @ }}');
e('{{ .a# }}');
e('{{ 1abc }}');
e('{{ 0x }}');
e('{{ 1e }}');
e('{{ 1+2i }}');
e('{{ :a }}');
e('{{ $x := }}');
e('{{ $x : 1 }}');
e('line1\nline2 {{ .a |\n }}');
e('{{ /* bad comment */ }}');
e('{{/* unclosed');
e('{{- /* ok */ -}}');
e('{{ "a" | printf "%s" | }}');
e('{{ range $a, $b, $c := . }}{{ end }}');
e('{{ with $a, $b := . }}{{ end }}');
e('a\nb\n{{ if }}');
e('{{ end }}{{ if }}');
e('{{ .user }}\n\n{{ .nope }}', sd);
e('é{{ .nope }}', sd);
e('日本\n語 {{ .nope }}', sd);

// ---------------------------------------------------------------- comparisons and logic
e('{{ eq 1 1 }} {{ eq 1 2 }} {{ eq "a" "a" }} {{ eq 1 2 3 1 }} {{ ne 1 2 }} {{ ne "a" "a" }}');
e('{{ eq 1 1.0 }}');
e('{{ eq "1" 1 }}');
e('{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 1 2 }} {{ lt "a" "b" }} {{ lt 1.5 2.5 }}');
e('{{ lt 1 2.0 }}');
e('{{ lt true false }}');
e('{{ lt nil 1 }}');
e('{{ eq nil nil }}');
e('{{ eq .missing "x" }}', sd, { missingKey: 'default' });
e('{{ eq (index "a" 0) 97 }} {{ lt (index "a" 0) 98 }} {{ eq 97 (index "a" 0) }} {{ lt -1 (index "a" 0) }}');
e('{{ eq (add 1 2) 3 }} {{ eq (len "abc") 3 }} {{ eq (int64 3) (len "abc") }}');
e('{{ eq }}');
e('{{ eq 1 }}');
e('{{ eq (list 1) (list 1) }}');
e('{{ eq (list 1) 1 }}');
e('{{ ne 1 }}');
e('{{ and 1 2 }} {{ and 0 2 }} {{ and 1 "" }} {{ or 0 "" }} {{ or 0 "x" }} {{ or "" 0 false }} {{ and }}');
e('{{ and true (fail "boom") }}');
e('{{ or true (fail "boom") }}');
e('{{ and false (fail "boom") }}');
e('{{ not 0 }} {{ not "" }} {{ not "x" }} {{ not (list) }} {{ not .missing }}', sd, { missingKey: 'default' });
e('{{ not }}');
e('{{ not 1 2 }}');
e('{{ if and .user .host }}both{{ end }}', sd);
e('{{ "x" | and true }} {{ "" | or "y" }}');
j('{{ eq .i 3.0 }} {{ eq .s "str" }} {{ eq .n nil }} {{ eq .t true }}', jd);
j('{{ lt .i 4 }}', jd);
j('{{ eq .m .m }}', jd);

// ---------------------------------------------------------------- builtins
e('{{ len "héllo" }} {{ len .csv }} {{ len (list 1 2) }} {{ len (dict "a" 1) }}', sd);
e('{{ len 3 }}');
e('{{ len nil }}');
e('{{ len .missing }}', sd, { missingKey: 'default' });
j('{{ len .n }}', jd);
e('{{ index "abc" 1 }} {{ index (list 1 2 3) 2 }} {{ index (dict "k" "v") "k" }} {{ index (dict "k" "v") "nope" }}');
e('{{ index (list (list 1 2) (list 3 4)) 1 0 }}');
e('{{ index (list 1 2) 5 }}');
e('{{ index (list 1 2) 2 }}');
e('{{ index (list 1 2) -1 }}');
e('{{ index "abc" 3 }}');
e('{{ index 3 0 }}');
e('{{ index nil 0 }}');
e('{{ index (list 1) "a" }}');
e('{{ index (dict "a" 1) 1 }}');
e('{{ index (list 1 2) }}');
e('{{ index . "user" }}', sd);
e('{{ index . "nope" }}', sd);
j('{{ index .l 3 }} {{ index .m "c" "d" }} {{ index .m "zz" }}', jd);
j('{{ index .l 3 0 }}', jd);
e('{{ print 1 2 "a" "b" 3 }} {{ print "a" 1 "b" }} {{ print }} {{ print nil }} {{ print (list 1 "a") }}');
e('{{ println 1 "a" }}|{{ println }}|');
e('{{ html "<a href=\\"x\\">&\'</a>" }} {{ html 1 2 }} {{ html .html }}', sd);
e('{{ js "a\'b\\"c<d>&=\\\\ \\n é ✓" }} {{ js 1 "x" }}');
e('{{ urlquery "a b&c=d/é?" }} {{ urlquery 1 2 }} {{ urlquery .pass }}', sd);
e('{{ html .missing }}', sd, { missingKey: 'default' });
e('{{ call 1 }}');
e('{{ call nil }}');
e('{{ slice (list 1 2 3) 1 }}');
e('{{ slice "abc" 1 }}');

// ---------------------------------------------------------------- printf
const fmtVals = ['1', '-1', '0', '255', '3.14159', '-2.5', '1e21', '1e-7', '"abc"', '"héllo"', '""', 'true', 'nil', '(list 1 "a")', '(dict "k" 1)', "'x'", '100000000.0', '0.000123'];
const verbs = ['%v', '%d', '%s', '%q', '%x', '%X', '%o', '%b', '%e', '%E', '%f', '%g', '%G', '%t', '%c', '%U', '%T', '%+v', '%#v', '%5d', '%-5d|', '%05d', '%+d', '% d', '%8.3f', '%-8.2f|', '%.0f', '%.2e', '%10s|', '%-10s|', '%.2s', '%08.3f', '%x', '%#x', '%#o', '%+q', '%#q', '%6.2g', '%.3g', '%10.4v', '%O'];
for (const v of fmtVals) {
  e(`{{ printf "${verbs.join(' ')}" ${Array(verbs.length).fill(v).join(' ')} }}`);
}
e('{{ printf "%d %d" 1 }}');
e('{{ printf "%d" 1 2 "x" }}');
e('{{ printf "%" }}');
e('{{ printf "%!" }}');
e('{{ printf "%z" 1 }}');
e('{{ printf "%*d|%-*d|%.*f" 5 1 4 2 2 3.14159 }}');
e('{{ printf "%*d" "x" 1 }}');
// Widths and precisions: Go's parsenum gives up past 1e6 and consumes the rest of the format.
e('{{ printf "%0999999999d" 1 }}');
e('{{ printf "%99999999999999999999d|%s" 1 "x" }}');
e('{{ printf "%.100000000f" 1.5 }}');
e('{{ printf "%01000001d" 1 | len }}');
e('{{ printf "%010000009d" 1 | len }}');
e('{{ printf "%*d" 1000001 1 }}');
e('{{ printf "%.*d" 1000001 1 }}');
e('{{ printf "%-*d|" -1000001 1 }}');
e('{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}');
e('{{ printf "%[2]d %[1]d" 1 2 }}');
e('{{ printf "%[3]d" 1 2 }}');
e('{{ printf "%[1]d %d" 1 2 }}');
e('{{ printf "%%" }} {{ printf "100%%" }}');
e('{{ printf "%s" .uni }} {{ printf "%q" .uni }} {{ printf "%+q" .uni }} {{ printf "%x" .uni }} {{ printf "% x" .uni }} {{ printf "%5.1s|" .uni }}', sd);
e('{{ printf "%v" . }}', { b: '2', a: '1' });
e('{{ printf "%d" .num }}', sd);
e('{{ printf "%s" 5 }}');
e('{{ printf "%v %v" (atoi "12") (float64 "1.5") }}');
e('{{ printf "%.3f %.2f %.1f %.0f %.0f %.0f" 2.0005 1.005 0.25 0.5 1.5 2.5 }}');
e('{{ printf "%g %g %g %g %g" 1e6 1e-5 123456789.0 0.0001 100000.0 }}');
e('{{ printf "%e %.0e %#.0e %#g %#v" 1234.5678 5.0 5.0 1.0 1.0 }}');
e('{{ printf "%x %X %.3x" 1.5 -0.1 3.14 }}');
e('{{ printf "%b" 4.0 }}');
e('{{ printf "%6.2f|%-8.3e|%+.1f|% .2f" 3.14159 1234.5 2.25 -1.0 }}');
e('{{ printf "%c%c%c" 72 105 0x1F600 }}');
e('{{ printf "%U %#U" 0x1F600 65 }}');
e('{{ printf "%q %q" 10 0x7f }}');
e('{{ printf "%t %t" true 1 }}');
e('{{ printf "%s" (list "a" 1 nil) }} {{ printf "%d" (list 1 "a") }} {{ printf "%v" (list nil) }}');
e('{{ printf "%v" (dict "b" (list 1 2) "a" (dict "x" nil)) }}');
e('{{ printf "%#v" (list 1 "a") }} {{ printf "%#v" (dict "a" 1) }} {{ printf "%#v" "q" }} {{ printf "%#v" 3 }}');
e('{{ printf "%T %T %T %T %T %T %T" 1 1.5 "s" true nil (list) (dict) }}');
e('{{ printf "%T %T %T %T" (splitList "," "a") (int64 1) (add 1 1) (until 2) }}');
e('{{ printf "%05s|%-05d|%+05d|%x" "ab" 3 3 -255 }}');
e('{{ printf "%10.3q|%-6t|" "abcdef" true }}');
e('{{ printf "%v|%6v|%-6v|" 1.0 2.5 -0.0 }}');
e('{{ printf "%.1f %.1f %.1f %.1f" 0.05 0.15 0.25 0.35 }}');
e('{{ printf "%.15f %.20f" 0.1 0.1 }}');
e('{{ printf "%v %v %v %v" 1e20 1e21 123456.0 1234567.0 }}');
e('{{ printf "%v %v" 5e-324 1.7976931348623157e308 }}');
e('{{ printf "%d" 9223372036854775807 }} {{ printf "%x" -9223372036854775808 }}');
e('{{ printf "%s" }}');
e('{{ printf }}');
e('{{ printf 1 }}');
e('{{ 1 | printf "%d-%d" 2 }}');

// ---------------------------------------------------------------- pipelines & function calls
e('{{ .user | upper | printf "%s!" }}', sd);
e('{{ "x" | upper "y" }}');
e('{{ upper }}');
e('{{ upper "a" "b" }}');
e('{{ upper 1 }}');
e('{{ upper .missing }}', sd, { missingKey: 'default' });
e('{{ .missing | upper }}', sd, { missingKey: 'default' });
j('{{ upper .n }}', jd);
j('{{ .n | upper }}', jd);
j('{{ upper .i }}', jd);
j('{{ upper .s }}', jd);
e('{{ repeat (add 1 2) "x" }}');
e('{{ repeat 3 "ab" }}');
e('{{ repeat -1 "ab" }}');
e('{{ repeat 2.5 "ab" }}');
e('{{ repeat "2" "ab" }}');
e('{{ (list 1 2).x }}');
e('{{ (dict "a" (dict "b" "c")).a.b }}');
e('{{ (nil).x }}');
e('{{ ("x") }}');
e('{{ (1) 2 }}');
e('{{ .user.a.b }}', sd);
e('{{ $x := dict "a" 1 }}{{ $x.a }} {{ $x.b }}');
e('{{ $x := dict "a" 1 }}{{ $x.a 1 }}');
e('{{ .user 1 }}', sd);
e('{{ "a" | .user }}', sd);
e('{{ (semver "1.2.3").Major }}');

// ---------------------------------------------------------------- sprig strings
e('{{ trim .ws }}|{{ trimAll "xy" "xxhixy" }}|{{ trimPrefix "ab" "abc" }}|{{ trimSuffix "bc" "abc" }}|{{ trimall "a" "aba" }}', sd);
e('{{ upper .uni }} {{ lower .upper }} {{ title "hello wide-world foo_bar" }} {{ untitle "Hello World" }}', sd);
e('{{ upper "ßtraße ǆ" }} {{ lower "İSTANBUL ΣΑΣ" }} {{ title "ǆemal" }}');
e('{{ substr 1 3 "hello" }} {{ substr -1 2 "hello" }} {{ substr 2 -1 "hello" }} {{ substr 2 99 "hello" }}');
e('{{ substr 4 2 "hello" }}');
e('{{ substr 1 2 "héllo" }}');
e('{{ trunc 3 "hello" }} {{ trunc -2 "hello" }} {{ trunc 10 "hi" }} {{ trunc -10 "hi" }} {{ trunc 0 "x" }}');
e('{{ abbrev 5 "hello world" }} {{ abbrev 3 "hello" }} {{ abbrev 20 "hi" }} {{ abbrevboth 5 10 "1234 5678 9123 4567" }} {{ abbrevboth 0 4 "abcdefg" }}');
e('{{ initials "First Try" }} {{ initials "héllo wörld" }} {{ nospace "a b\tc\nd" }} {{ nospace "é è" }}');
e('{{ swapcase "Hello World abc" }} {{ swapcase "" }}');
e('{{ snakecase "FirstName" }} {{ snakecase "HTTPServer" }} {{ snakecase "already_snake" }} {{ snakecase "with space and-dash" }} {{ snakecase "abc123def" }} {{ snakecase "ID2Name" }}');
e('{{ camelcase "http_server" }} {{ camelcase "first name" }} {{ camelcase "__a__b" }} {{ camelcase "AlreadyCamel" }} {{ camelcase "x" }} {{ camelcase "_" }}');
e('{{ kebabcase "FirstName" }} {{ kebabcase "HTTPServerV2" }} {{ kebabcase "a.b.c" }}');
e('{{ wrap 5 "The quick brown fox" }}|{{ wrapWith 5 "\\t" "Hello World" }}|{{ wrap 3 "abcdefgh ij" }}');
e('{{ contains "cat" "catch" }} {{ hasPrefix "ca" "cat" }} {{ hasSuffix "at" "cat" }} {{ contains "" "x" }}');
e('{{ quote "a" 1 nil "b\\"c" }} {{ squote "a" 2 nil }} {{ quote }} {{ quote .uni }}', sd);
e('{{ cat "a" 1 nil "b" (list 1 2) }} {{ cat }}');
e('{{ indent 4 .multi }}|{{ nindent 2 "x\ny" }}', sd);
e('{{ replace "a" "b" "banana" }} {{ replace "" "-" "abc" }} {{ replace "na" "" "banana" }}');
e('{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }} {{ plural "one" "many" 0 }}');
e('{{ sha1sum "abc" }} {{ sha256sum "abc" }} {{ adler32sum "abc" }} {{ sha256sum .uni }}', sd);
e('{{ sha512sum "" }}');
e('{{ toString 1 }} {{ toString 1.5 }} {{ toString true }} {{ toString nil }} {{ toString (list 1) }} {{ toString "s" }}');
e('{{ atoi "42" }} {{ atoi "x" }} {{ atoi " 1" }} {{ atoi "+5" }} {{ atoi "0x10" }} {{ atoi "99999999999999999999" }}');
e('{{ int "42" }} {{ int "0x1f" }} {{ int "4.00" }} {{ int "4.5" }} {{ int 4.9 }} {{ int -4.9 }} {{ int true }} {{ int nil }} {{ int "010" }} {{ int "1_000" }}');
e('{{ int64 "42" }} {{ int64 1e30 }} {{ float64 "1.5" }} {{ float64 "x" }} {{ float64 3 }} {{ float64 "1e3" }} {{ float64 "inf" }} {{ float64 "0x1p-2" }}');
e('{{ seq 5 }}|{{ seq 2 5 }}|{{ seq 5 2 }}|{{ seq 0 2 10 }}|{{ seq 10 -3 1 }}|{{ seq 1 2 3 4 }}|{{ seq }}|{{ seq -2 }}');
e('{{ toDecimal "777" }} {{ toDecimal "8" }} {{ toDecimal 10 }}');
e('{{ split "," .csv }} {{ (split "," .csv)._1 }} {{ splitList "," .csv }} {{ splitn "," 2 .csv }} {{ splitList "" "abc" }}', sd);
e('{{ toStrings (list 1 "a" nil 2.5) }} {{ toStrings "x" }} {{ toStrings nil }}');
e('{{ until 5 }} {{ until -3 }} {{ until 0 }} {{ untilStep 0 10 3 }} {{ untilStep 10 0 -4 }} {{ untilStep 0 10 -1 }}');
e('{{ join "-" (list 1 "a" nil 2) }} {{ join "," (splitList "," .csv) }} {{ join "," "str" }} {{ join "," nil }}', sd);
e('{{ sortAlpha (list "b" "a" "C" 1) }} {{ sortAlpha "x" }} {{ sortAlpha (splitList "," "z,é,e,a") }}');
e('{{ b64enc .user }} {{ b64dec .b64 }} {{ b64dec .bad64 }} {{ b64dec "YQ" }} {{ b64dec "YQ=" }} {{ b64dec "YQ==" }} {{ b64dec "Y\\nQ==" }} {{ b64dec "YQ==YQ==" }} {{ b64dec "" }}', sd);
e('{{ b32enc "hello" }} {{ b32dec "NBSWY3DP" }} {{ b32dec "bad!" }} {{ b32dec "NBSWY3D" }} {{ b32enc "" }}');
e('{{ b64dec "////" | b64enc }}');
e('{{ b64enc .uni | b64dec }}', sd);
e('{{ randAlphaNum 10 | len }} {{ randAlpha 5 | len }} {{ randNumeric 7 | len }} {{ randAscii 3 | len }} {{ uuidv4 | len }} {{ shuffle "abc" | len }}');
e('{{ hello }}');

// ---------------------------------------------------------------- sprig math
e('{{ add 1 2 3 }} {{ add }} {{ add "1" 2.7 true }} {{ add1 5 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }}');
e('{{ div 1 0 }}');
e('{{ mod 1 0 }}');
e('{{ add 9223372036854775807 1 }} {{ mul 9223372036854775807 2 }}');
e('{{ max 1 5 3 }} {{ min 1 5 -3 }} {{ biggest 1 2 }} {{ max "10" 9 }} {{ maxf 1.5 2.5 }} {{ minf 1.5 -2.5 3 }}');
e('{{ addf 1.1 2.2 }} {{ subf 3.3 1.1 }} {{ mulf 1.1 3 }} {{ divf 10 3 }} {{ divf 1 3 }} {{ add1f 0.1 }} {{ addf }} {{ addf "1.5" 2 }}');
e('{{ divf 1 0 }}');
e('{{ floor 1.7 }} {{ ceil 1.2 }} {{ floor -1.5 }} {{ round 3.14159 2 }} {{ round 2.5 0 }} {{ round 1.255 2 }} {{ round 3.7 0 0.8 }} {{ floor "2.5" }}');
e('{{ add1 "x" }} {{ sub "5" "x" }}');
e('{{ randInt 5 6 }}');

// ---------------------------------------------------------------- sprig lists
e('{{ list 1 "a" 2.5 nil true }} {{ list }} {{ tuple 1 2 }}');
e('{{ first (list 1 2) }} {{ last (list 1 2) }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }} {{ first (list) }} {{ rest (list) }} {{ initial (list) }}');
e('{{ first nil }}');
e('{{ first "abc" }}');
e('{{ mustFirst "abc" }}');
e('{{ first (splitList "," "x,y") }}');
e('{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ push (list) "x" }} {{ append (splitList "," "a,b") "c" }}');
e('{{ append "x" 1 }}');
e('{{ reverse (list 1 2 3) }} {{ uniq (list 1 2 1 "1" 2.0 (list 1) (list 1)) }} {{ compact (list 0 1 "" "a" nil false (list) true) }}');
e('{{ without (list 1 2 3 2) 2 }} {{ without (list 1 2 3) 1 3 }} {{ has 2 (list 1 2) }} {{ has "2" (list 1 2) }} {{ has 1 nil }}');
e('{{ has 1 "abc" }}');
e('{{ slice (list 1 2 3 4) 1 3 }} {{ slice (list 1 2 3) 1 }} {{ slice (list 1 2 3) }} {{ slice (list) }} {{ slice (splitList "," "a,b,c") 1 }}');
e('{{ slice (list 1 2) 1 5 }}');
e('{{ slice "abc" 1 }}');
e('{{ concat (list 1 2) (list 3) (splitList "," "a,b") }} {{ concat }}');
e('{{ concat (list 1) 2 }}');
e('{{ chunk 2 (list 1 2 3 4 5) }} {{ chunk 3 (list 1 2 3) }} {{ chunk 2 (list) }}');
e('{{ chunk 0 (list 1) }}');
e('{{ empty "" }} {{ empty 0 }} {{ empty (list) }} {{ empty (dict) }} {{ empty nil }} {{ empty false }} {{ empty "x" }} {{ empty 0.0 }} {{ empty .missing }}', sd, { missingKey: 'default' });
e('{{ default "d" "" }} {{ default "d" "x" }} {{ default "d" 0 }} {{ default "d" }} {{ default "d" nil }} {{ .missing | default "dflt" }}', sd, { missingKey: 'default' });
e('{{ .empty | default "fallback" }} {{ .user | default "fallback" }}', sd);
e('{{ coalesce "" 0 nil "x" "y" }} {{ coalesce "" 0 }} {{ all 1 "a" true }} {{ all 1 "" }} {{ any 0 "" "a" }} {{ any }} {{ all }}');
e('{{ ternary "y" "n" true }} {{ ternary "y" "n" false }} {{ true | ternary "a" "b" }}');
e('{{ ternary "y" "n" 1 }}');
e('{{ typeOf 1 }} {{ typeOf 1.5 }} {{ typeOf "s" }} {{ typeOf nil }} {{ typeOf (list) }} {{ typeOf (dict) }} {{ typeOf (splitList "," "a") }} {{ typeOf (add 1 1) }} {{ typeOf . }}', sd);
e('{{ kindOf 1 }} {{ kindOf "s" }} {{ kindOf nil }} {{ kindOf (list) }} {{ kindOf (dict) }} {{ kindIs "int" 1 }} {{ typeIs "string" "x" }} {{ typeIsLike "string" "x" }} {{ kindOf (int64 1) }}');
e('{{ deepEqual (list 1 2) (list 1 2) }} {{ deepEqual (list 1) (list 2) }} {{ deepEqual 1 1.0 }} {{ deepEqual (dict "a" 1) (dict "a" 1) }}');

// ---------------------------------------------------------------- sprig dicts
e('{{ dict "b" 2 "a" 1 }} {{ dict }} {{ dict "odd" }} {{ dict 1 2 }} {{ get (dict "a" 1) "a" }} {{ get (dict "a" 1) "b" }}');
e('{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }} {{ unset $d "a" }} {{ hasKey $d "b" }} {{ hasKey $d "a" }}');
e('{{ keys (dict "b" 1 "a" 2) | sortAlpha }} {{ values (dict "a" 1) }} {{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}');
e('{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "c" "z" }} {{ omit (dict "a" 1 "b" 2) "a" }}');
e('{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}');
e('{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2 "x" 5)) }}');
e('{{ merge (dict "a" "") (dict "a" "x") }} {{ mergeOverwrite (dict "a" "x") (dict "a" "") }}');
e('{{ dig "a" "b" "dflt" (dict "a" (dict "b" "found")) }} {{ dig "a" "x" "dflt" (dict "a" (dict "b" 1)) }} {{ dig "z" "dflt" (dict) }}');
e('{{ dig "a" "b" "d" (dict "a" 1) }}');
e('{{ dig "a" (dict) }}');
e('{{ keys . }}', sd);
e('{{ get . "user" }}', sd);
e('{{ hasKey . "user" }}', sd);
j('{{ keys . | sortAlpha }} {{ hasKey . "s" }} {{ get .m "a" }} {{ pick .m "a" }}', jd);
e('{{ deepCopy (dict "a" (list 1 2)) }} {{ mustDeepCopy (list 1) }}');
e('{{ $d := dict "k" (list 1) }}{{ $c := deepCopy $d }}{{ $_ := set $c "k" 2 }}{{ $d.k }} {{ $c.k }}');

// ---------------------------------------------------------------- JSON
e('{{ .json | fromJson }} {{ (.json | fromJson).a }} {{ (fromJson .json).c.d }} {{ index (fromJson .json).b 0 }}', sd);
e('{{ fromJson "bad" }}|{{ fromJson "[1,2" }}|{{ fromJson "" }}|{{ fromJson "1" }}|{{ fromJson "\\"s\\"" }}|{{ fromJson "null" }}');
e('{{ mustFromJson "bad" }}');
e('{{ mustFromJson "{\\"a\\":}" }}');
e('{{ mustFromJson "[1,]" }}');
e('{{ mustFromJson "{\\"a\\" 1}" }}');
e('{{ mustFromJson "tru" }}');
e('{{ mustFromJson "{}x" }}');
e('{{ mustFromJson "\\"\\\\q\\"" }}');
e('{{ toJson (dict "b" 1 "a" (list 1 "x" nil 2.5 true) "h" "<&>") }} {{ toJson "s" }} {{ toJson nil }} {{ toJson 1e21 }} {{ toJson 1e-7 }} {{ toJson 100000000000000000000.0 }}');
e('{{ toPrettyJson (dict "b" 1 "a" (list 1 (dict "x" (list)) ) "e" (dict)) }}');
e('{{ toRawJson (dict "h" "<&>" "u" "é\\u2028") }} {{ toJson "é\\u2028\\u0001" }}');
e('{{ .json | fromJson | toJson }} {{ .json | fromJson | toPrettyJson }}', sd);
e('{{ fromJson "{\\"n\\": 12345678901234567890, \\"f\\": 1.0, \\"e\\": 1e2, \\"neg\\": -0}" | toJson }}');
e('{{ (fromJson "{\\"n\\": 3}").n | printf "%T %v" }}');
e('{{ toJson . }}', sd);
j('{{ toJson . }}', jd);
e('{{ mustToJson (list 1) }} {{ mustToPrettyJson (dict) }} {{ mustToRawJson "<" }}');

// ---------------------------------------------------------------- regex
e('{{ regexMatch "^[a-z]+$" "abc" }} {{ regexMatch "^[a-z]+$" "aBc" }} {{ regexMatch "(?i)^[a-z]+$" "aBc" }} {{ regexMatch "(" "x" }}');
e('{{ mustRegexMatch "(" "x" }}');
e('{{ regexFind "[0-9]+" "abc 123 def 456" }} {{ regexFindAll "[0-9]+" "a1b22c333" -1 }} {{ regexFindAll "[0-9]+" "a1b22c333" 2 }} {{ regexFindAll "x" "abc" -1 }} {{ regexFindAll "a" "aaa" 0 }}');
e('{{ regexFindAll "a*" "baaac" -1 }} {{ regexFindAll "" "abc" -1 }} {{ regexFindAll "a|" "bab" -1 }}');
e('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }} {{ regexReplaceAll "a*" "baaac" "X" }} {{ regexReplaceAll "(?P<n>[0-9])" "a1b2" "<$n>" }} {{ regexReplaceAll "x" "axb" "$$" }}');
e('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }} {{ regexReplaceAll "" "abc" "-" }} {{ regexReplaceAll "b*" "abc" "-" }}');
e('{{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }} {{ regexSplit "z+" "pizza" 0 }} {{ regexSplit "" "abc" -1 }} {{ regexSplit "a" "" -1 }} {{ regexSplit ",\\\\s*" "a, b,c" 2 }}');
e('{{ regexQuoteMeta "1.5+[x]" }} {{ regexMatch (regexQuoteMeta "a.b") "axb" }}');
e('{{ regexFind "(" "x" }}');
e('{{ regexFind "a**" "x" }}');
e('{{ regexFind "x{1001}" "x" }}');
e('{{ regexFind "\\\\q" "x" }}');
e('{{ regexFind "[z-a]" "x" }}');
e('{{ regexFind "(?<name>x)" "x" }} {{ regexFind "(?P<name>x)" "x" }}');
e('{{ regexFind "\\\\d+\\\\s\\\\w+" "ab 12 cd" }} {{ regexFind "\\\\bfoo\\\\b" "a foo b" }} {{ regexFind "[[:alpha:]]+" "12abc3" }} {{ regexFind "[^[:digit:]]+" "12abc3" }}');
e('{{ regexFind "\\\\pL+" "12héllo3" }} {{ regexFind "\\\\p{Greek}+" "abc αβγ" }} {{ regexFind "[\\\\p{Lu}]+" "abcDEF" }}');
e('{{ regexFind "(?s)a.b" "a\\nb" }} {{ regexFind "a.b" "a\\nb" }} {{ regexFindAll "(?m)^\\\\w+" "ab\\ncd\\nef" -1 }} {{ regexFindAll "^\\\\w+" "ab\\ncd" -1 }} {{ regexFindAll "(?m)\\\\w+$" "ab\\ncd" -1 }}');
e('{{ regexFind "(?U)a+" "aaa" }} {{ regexFind "a+?" "aaa" }} {{ regexFind "(?i)straße" "STRASSE straße" }} {{ regexFind "x(?i)Y" "xy xY" }}');
e('{{ regexFind "a{2}" "aaa" }} {{ regexFind "a{2,}" "aaaa" }} {{ regexFind "a{,2}" "a{,2}" }} {{ regexFind "a{" "a{" }} {{ regexFind "\\\\Q.*\\\\E" "a.*b" }} {{ regexFind "\\\\x41\\\\x{42}" "zAB" }}');
e('{{ regexFind "[]a]+" "]]a" }} {{ regexFind "[^]a]+" "]]abc" }} {{ regexFind "[a-]+" "a-a" }} {{ regexFind "\\\\A\\\\w" "ab" }} {{ regexFind "\\\\w\\\\z" "ab" }}');
e('{{ regexFind "(a|ab)(c|bcd)(d*)" "abcd" }} {{ regexFind "(a+)(b+)?" "aab" }} {{ regexReplaceAll "(a)|(b)" "ab" "[$1|$2]" }}');
e('{{ regexReplaceAll "(?i)HELLO" .uni "bye" }} {{ regexReplaceAll "ö" .uni "o" }} {{ regexFindAll "." "日本" -1 }}', sd);
e('{{ mustRegexFindAll "(" "x" 1 }}');
e('{{ mustRegexReplaceAll "[" "x" "y" }}');
e('{{ mustRegexSplit "+" "x" 1 }}');
// RE2 (src/go/regexp.ts on re2js): more of Go's syntax, expansion and error wording.
e('{{ regexReplaceAll "(?P<first>\\w+) (?P<last>\\w+)" "John Smith" "${last}, ${first}" }} {{ regexReplaceAll "(a)" "a" "$1x|${1}x|$01|$|${1|$é" }}');
e('{{ regexReplaceAll "x*" "abc" "-" }} {{ regexSplit "x*" "axxb" -1 }} {{ regexReplaceAll "a|" "baaac" "<$0>" }} {{ regexReplaceAllLiteral "(a)" "aba" "$1$$" }}');
e('{{ regexFindAll "" "😀x" -1 }} {{ regexReplaceAll "" "😀x" "-" }} {{ regexSplit "" "日😀" -1 }} {{ regexFindAll "." "a😀b" 2 }}');
e('{{ regexFind "[[:^alpha:]]+" "ab12cd" }} {{ regexFind "\\P{L}+" "ab12cd" }} {{ regexFind "(?i)[[:upper:]]+" "abC" }} {{ regexFind "[[:word:][:punct:]]+" "a_b!c d" }}');
e('{{ regexFind "(?i:A)b" "aB ab" }} {{ regexFind "(?s:.)+" "a\\nb" }} {{ regexFind "(?m:^b)" "a\\nb" }} {{ regexFind "(?U)(a+)(a*)" "aaa" }} {{ regexFind "\\\\Qa+b" "xa+b" }}');
e('{{ regexFind "(?P<>a)" "a" }}');
e('{{ regexFind "(?=x)" "x" }}');
e('{{ regexFind "(a)\\\\1" "aa" }}');
e('{{ regexFind "a++" "a" }}');
e('{{ regexFind "\\\\p{Foo}" "a" }}');
e('{{ regexFind "(?z)a" "a" }}');
e('{{ regexFind "[[:foo:]]" "a" }}');
e('{{ regexFind "(?P<n>a)(?P<n>b)" "ab" }}');
e('{{ regexFind "(?:a{1000}){2}" "a" }}');
e('{{ regexFind "\\\\x{110000}" "a" }}');
e('{{ regexMatch "(" "x" }} {{ regexMatch "a{1001}" "x" }} {{ regexMatch "\\\\8" "x" }}');
// ReDoS shapes: catastrophic for a backtracking engine, linear for RE2 (and for Go).
e('{{ filterPEM "CERTIFICATE" (printf "-----BEGIN CERTIFICATE-----\\n%sx\\n-----END CERTIFICATE-----\\n" (repeat 50000 " ")) | len }}');
e('{{ semverCompare (printf "1%s!" (repeat 4000 " ")) "1.0.0" }}');
e('{{ semverCompare (printf "%s1 - 2%s" (repeat 3000 " ") (repeat 3000 " ")) "1.5.0" }} {{ semverCompare (printf ">= 1.0.0%s" (repeat 3000 ", >= 1")) "1.5.0" }} {{ semverCompare "1.2 - 1.4 || ^2" "2.1.0" }}');
e('{{ regexMatch "(a+)+$" (printf "%s!" (repeat 30000 "a")) }} {{ regexMatch "^(a|a)*b$" (repeat 30000 "a") }} {{ regexFindAll "(.*a){20}" (repeat 20000 "a") -1 | len }}');
e('{{ regexReplaceAll "(a|aa)+c" (repeat 20000 "a") "x" | len }} {{ regexSplit "(x+x+)+y" (repeat 20000 "x") -1 | len }} {{ regexFind "(\\\\w+\\\\s?)*$" (printf "%s!" (repeat 20000 "ab ")) | len }}');

// ---------------------------------------------------------------- paths, urls, semver
e('{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "/a/b.tar.gz" }} {{ clean "/a/../b/./c//" }} {{ isAbs "/x" }} {{ isAbs "x" }} {{ base "" }} {{ dir "" }} {{ clean "" }} {{ base "/" }} {{ dir "a" }} {{ clean "../../a" }}');
e('{{ osBase "/a/b" }} {{ osDir "/a/b" }} {{ osClean "a//b" }} {{ osExt "x.y" }} {{ osIsAbs "/" }}');
e('{{ $u := urlParse "https://user:pw@example.com:8443/p/a%20th?q=1&r=2#frag" }}{{ $u.scheme }}|{{ $u.host }}|{{ $u.hostname }}|{{ $u.path }}|{{ $u.query }}|{{ $u.fragment }}|{{ $u.userinfo }}|{{ $u.opaque }}');
e('{{ urlJoin (dict "scheme" "https" "host" "example.com" "path" "/a b" "query" "x=1" "fragment" "f") }} {{ urlJoin (dict "scheme" "mailto" "opaque" "a@b.c") }}');
e('{{ urlParse "mailto:a@b.c" }}');
e('{{ semverCompare "^1.2.0" "1.4.5" }} {{ semverCompare ">=2.0.0" "1.9.9" }} {{ semverCompare "~1.2" "1.2.9" }} {{ semverCompare "1.x" "1.5.0" }} {{ semverCompare ">1.0 <2.0" "1.5.0" }} {{ semverCompare "1.0 - 2.0" "2.0.0" }} {{ semverCompare "<1.0 || >=3.0" "3.1.0" }} {{ semverCompare "^0.2.3" "0.2.9" }} {{ semverCompare "^0.2.3" "0.3.0" }} {{ semverCompare ">=1.0.0" "1.1.0-beta" }}');
e('{{ semverCompare "!!" "1.0.0" }}');
e('{{ semverCompare "1.0" "bad" }}');
e('{{ semver "1.2.3-beta.1+build" }} {{ (semver "v2.0").Minor }} {{ (semver "1.2.3-rc1").Prerelease }} {{ (semver "1.2.3+m").Metadata }} {{ (semver "v1.2").Original }}');
e('{{ semver "x.y" }}');

// ---------------------------------------------------------------- dates (deterministic parts)
e('{{ toDate "2006-01-02" "2023-10-05" | date "2006-01-02T15:04:05Z07:00" }}');
e('{{ toDate "2006-01-02 15:04" "2023-10-05 13:45" | date "Mon Jan 2 3:04PM 2006 .000 MST" }}');
e('{{ dateInZone "2006-01-02 15:04:05 MST" (toDate "2006-01-02" "2024-02-29") "UTC" }} {{ dateInZone "02/01/06" 0 "UTC" }} {{ htmlDateInZone (int64 86400) "UTC" }}');
e('{{ toDate "2006-01-02" "bad" }}');
e('{{ mustToDate "2006-01-02" "bad" }}');
e('{{ unixEpoch (toDate "2006-01-02" "2020-01-01") }} {{ toDate "2006-01-02" "2020-01-01" | dateModify "1h30m" | date "15:04" }} {{ toDate "2006-01-02" "2020-01-01" | dateModify "bad" | date "2006" }}');
e('{{ duration "90" }} {{ duration (int64 3661) }} {{ duration 5 }} {{ durationRound "2h30m" }} {{ durationRound "400h" }} {{ durationRound "90s" }} {{ durationRound "1s" }} {{ durationRound "bad" }} {{ durationRound "9000h" }}');
e('{{ toDate "2006-01-02T15:04:05Z07:00" "2021-03-04T05:06:07+02:00" | date "2006-01-02 15:04:05 -0700" }}');
e('{{ (toDate "2006-01-02" "2021-03-04").Year }} {{ (toDate "2006-01-02" "2021-03-04").Unix }}');
e('{{ now | date "2006" | len }} {{ now | unixEpoch | len }}');

// ---------------------------------------------------------------- ESO functions
const certPem = '-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIQIRi6zePL6mKjOipn+dNuaTAKBggqhkjOPQQDAjASMRAw\nDgYDVQQKEwdBY21lIENvMB4XDTE3MTAyMDE5NDMwNloXDTE4MTAyMDE5NDMwNlow\n-----END CERTIFICATE-----\n';
const keyPem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBbo1H3y7hWG2x3kj1Qu0zVmGvG5Ay1T7kMnTRz5DaO8\n-----END PRIVATE KEY-----\n';
const bundle = `junk before\n${certPem}middle\n${keyPem}-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,1234\n\nAAAA\n-----END RSA PRIVATE KEY-----\ntrailer`;
e('{{ filterPEM "CERTIFICATE" .b }}', { b: bundle });
e('{{ filterPEM "private key" .b }}', { b: bundle });
e('{{ filterPEM "RSA PRIVATE KEY" .b }}', { b: bundle });
e('{{ filterPEM "NOPE" .b }}', { b: bundle });
e('{{ filterPEM "CERTIFICATE" "not a pem" }}');
e('{{ filterPEM "CERTIFICATE" "" }}');
e('{{ filterPEM "CERTIFICATE" .b }}', { b: '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n' });
e('{{ filterPEM "X" .b }}', { b: '-----BEGIN X-----\r\nAAEC\r\n-----END X-----\r\n' });
e('{{ filterPEM "X" .b }}', { b: '-----BEGIN X-----\n-----END X-----\n' });
e('{{ filterPEM "X" .b }}', { b: '-----BEGIN X-----\nAAEC\n-----END Y-----\n-----BEGIN X-----\nAAED\n-----END X-----' });
e('{{ .c | toYaml }}|{{ toYaml (dict "b" (list 1 "two" (dict "x" nil)) "a" "yes" "s" "multi\\nline" "n" 1.5 "e" (list) "m" (dict) "q" "a: b" "num" "123" "t" true) }}', { c: 'v' });
e('{{ toYaml . }}', sd);
e('{{ toYaml nil }}|{{ toYaml "s" }}|{{ toYaml 1 }}|{{ toYaml (list) }}|{{ toYaml (list 1 (list 2 3)) }}');
e('{{ (fromYaml "a: 1\\nb: [x, y]\\nc: {d: true}").b }} {{ fromYaml "a: 1\\nb: two" }} {{ (fromYaml "k: v").k }}');
e('{{ fromYaml "- a\\n- b" }}');
e('{{ fromYaml "" }} {{ fromYaml "a: yes\\nb: on\\nc: 0x10\\nd: 1e3\\ne: ~\\nf: 010" | toJson }}');
e('{{ .json | fromJson | toYaml }}', sd);
e('{{ .y | fromYaml | toJson }}', { y: 'a:\n  b:\n  - 1\n  - 2.5\n  c: "str"\nd: null\n' });
e('{{ toYaml (dict "long" "The quick brown fox jumps over the lazy dog and keeps running far beyond the eighty column limit of the emitter" "k10" 1 "k9" 2 "k09" 3 "K" 4 "_x" 5 "1" 6 "emoji" "🙂 ok" "tab" "a\tb" "sp" "trailing " "colon" "a:b" "hash" "a #b" "dash" "- x" "star" "*x" "date" "2001-12-14" "float" "1.5e3" "oct" "0o17" "nul" "~" "yes" "Yes" "base60" "1:20" "lit" "a\n b\n" "lit2" "x\n\n" "nested" (list (list 1 2) (dict "a" (list) "b" (dict "c" "d")))) }}')
e('{{ toYaml (list (dict "a" 1 "b" 2) "x" (list)) }}|{{ toYaml (fromJson "{\"big\": 12345678901234567890, \"f\": 1e20, \"i\": 3, \"neg\": -0.5, \"e\": 1e-7}") }}')
e('{{ toYaml "multi\\nline" }}|{{ toYaml "  lead\\ntrail" }}');
e('{{ toYaml .v }}', { v: 'a very long secret value with spaces that is definitely longer than eighty characters in total length ok' })
e('{{ toYaml (dict "k" .v) }}', { v: "it's a 'quoted' value: with colon and a very long tail that goes past the eighty column boundary for sure" })
e('{{ pkcs12key "" }}', {}, { errors: 'any' });

// ---------------------------------------------------------------- ESO realistic templates
e('{{ printf "postgres://%s:%s@%s:%s/db?sslmode=require" .user (urlquery .pass) .host .port }}', sd);
e('[client]\nuser={{ .user }}\npassword={{ .pass | quote }}\n{{- if .host }}\nhost={{ .host }}{{ end }}\n', sd);
e('{"auths":{"{{ .host }}":{"username":"{{ .user }}","password":"{{ .pass }}","auth":"{{ printf "%s:%s" .user .pass | b64enc }}"}}}', sd);
e('{{- range $k, $v := . }}\n{{ $k | upper | replace "-" "_" }}={{ $v | quote }}\n{{- end }}', { 'db-user': 'x', 'db-pass': 'y"z', 'api-key': 'k' });
e('{{ $cfg := .json | fromJson }}{{ range $k, $v := $cfg }}{{ $k }}: {{ $v | toJson }}\n{{ end }}', sd);
e('apiVersion: v1\nkind: Config\nusers:\n- name: {{ .user }}\n  token: {{ .pass | b64enc }}\n{{ .multi | indent 4 }}', sd);
e('{{ .num | int | add 1 }} {{ .flt | float64 | mulf 2 }} {{ .neg | atoi }}', sd);
e('{{ if and (hasKey . "user") (ne .user "") }}ok{{ end }}', sd);

// ---------------------------------------------------------------- executor fast paths (caches, quoting, integer printing)
e('{{ quote "plain" }} {{ quote "a\\"b\\\\c" }} {{ quote "tab\\there" }} {{ quote "é日\\U0001F600" }} {{ quote "\\x01\\x7f" }} {{ .html | quote }} {{ .uni | quote }}', sd);
e('{{ range $i, $e := list 1 2.5 "x" }}{{ add $i 10 }}|{{ mul $i 1.5 }}|{{ quote $e }}|{{ sub 3 $i }};{{ end }}', sd);
e('{{ range until 3 }}{{ 0x1F }} {{ 1e3 }} {{ -7 }} {{ \'a\' }} {{ 2.50 }};{{ end }}', sd);
e('{{ range until 2 }}{{ 18446744073709551615 }}{{ end }}', sd);
e('{{ define "t" }}{{ upper . }}{{ end }}{{ range list "a" "b" }}{{ template "t" . }}{{ upper . | lower }}{{ end }}', sd);
e('{{ int64 5 }} {{ int64 -5 | add 1 }} {{ len .user }} {{ atoi .num }} {{ int .neg }} {{ max 1 7 3 }} {{ toDecimal "0777" }}', sd);
e('{{ $x := 1 }}{{ range until 4 }}{{ $x = add $x $x }}{{ end }}{{ $x }} {{ printf "%T" $x }}', sd);
e('{{ with $a := .user }}{{ range $i := until 2 }}{{ $a }}{{ $i }}{{ end }}{{ end }} {{ .missing }}', sd, { missingKey: 'default' });

// ---------------------------------------------------------------- ESO 2.9's sprig additions: hexdec, bcrypt/htpasswd, certSANs, certificates
// Fixtures made with openssl for these cases (test keys, used nowhere else).
const sansCert = "-----BEGIN CERTIFICATE-----\nMIICBTCCAaugAwIBAgIUISmVHESYG15YOm890baCxKS8K+IwCgYIKoZIzj0EAwIw\nFzEVMBMGA1UEAwwMc2Fucy5leGFtcGxlMB4XDTI2MTEzMDEyMjAxNloXDTM2MTEy\nNzEyMjAxNlowFzEVMBMGA1UEAwwMc2Fucy5leGFtcGxlMFkwEwYHKoZIzj0CAQYI\nKoZIzj0DAQcDQgAEtRH+PoKbRcnXvhWV1JB/14Wy77kcjZXLo9Ba3OjdRq1DRGQB\nYwgYxgZS8VTGEqoH7wxzel2ZzkRBB2AXtqYSDaOB1DCB0TAdBgNVHQ4EFgQUNaR+\n8BlN+6RxDVlQUnrQ40E3ms4wHwYDVR0jBBgwFoAUNaR+8BlN+6RxDVlQUnrQ40E3\nms4wDwYDVR0TAQH/BAUwAwEB/zB+BgNVHREEdzB1gglhLmV4YW1wbGWCCyouYi5l\neGFtcGxlhwQKAQIDhxAgAQ24AAAAAAAAAAAAAAABhxAAAAAAAAAAAAAA///AAAIB\ngQ9vcHNAZXhhbXBsZS5jb22GIHNwaWZmZTovL2NsdXN0ZXIubG9jYWwvbnMveC9z\nYS95MAoGCCqGSM49BAMCA0gAMEUCIDqUYMNVmVqCxVznDl8KjY/j+5nDkP395yUy\nXvSZRjmrAiEA+fADGBThxfZXKxizoUgFiJJimttzNfjex8iFVh+W4Sg=\n-----END CERTIFICATE-----\n";
const sansKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKknyd4YA+pmIrSnS\nEQsp0I743iDTylrG7EwDg25tm8OhRANCAAS1Ef4+gptFyde+FZXUkH/XhbLvuRyN\nlcuj0Frc6N1GrUNEZAFjCBjGBlLxVMYSqgfvDHN6XZnOREEHYBe2phIN\n-----END PRIVATE KEY-----\n";
const plainCert = "-----BEGIN CERTIFICATE-----\nMIIBeDCCAR2gAwIBAgIUH76Fr75C2q1Jh0svRiCqWe5wv/owCgYIKoZIzj0EAwIw\nETEPMA0GA1UEAwwGbm9zYW5zMB4XDTI2MTEzMDEyMjAxNloXDTM2MTEyNzEyMjAx\nNlowETEPMA0GA1UEAwwGbm9zYW5zMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\nH8lt9MU68jgIwIurhs1qKi+rZKSXgldaHuE8mvfOb9Nhi4jC50BfbZMTdcSUPP+l\nP6Rs7szqZ3pyIS7Mtnvfk6NTMFEwHQYDVR0OBBYEFJ5mqfjt4SGn0XnIBoRUSBoC\nZ1scMB8GA1UdIwQYMBaAFJ5mqfjt4SGn0XnIBoRUSBoCZ1scMA8GA1UdEwEB/wQF\nMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAIAojWb5AL3V4Uv8FW5KbqrCv0fsuXtc\nxnFAJ4AIDWVxAiEA693Cg755ioV7NfHzxEAcwaTRUk6z1GFus5InagwO8GA=\n-----END CERTIFICATE-----\n";
const otherKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPBtwJMJhoHL9K3cO\niBPJ7tlDjCb54ftCmHvcGcT/YNShRANCAAQfyW30xTryOAjAi6uGzWoqL6tkpJeC\nV1oe4Tya985v02GLiMLnQF9tkxN1xJQ8/6U/pGzuzOpnenIhLsy2e9+T\n-----END PRIVATE KEY-----\n";
const pems = { c: sansCert, k: sansKey, n: plainCert, o: otherKey };
e('{{ hexdec "48656c6c6f" }}|{{ hexdec "" }}|{{ hexdec "DEADbeef" | len }}|{{ hexdec "4g" }}|{{ hexdec "abc" }}|{{ hexdec "ab\\n" }}|{{ hexdec "0x12" }}');
e('{{ hexdec .uni }}|{{ hexdec "é0" }}|{{ hexdec "zz" }}|{{ hexdec "5" }}|{{ hexdec "x" }}|{{ hexdec "c3a9" }}', sd);
e('{{ htpasswd "user" "pass" "sha" }}|{{ htpasswd "a:b" "p" "sha" }}|{{ htpasswd "u" .uni "sha" }}|{{ htpasswd "" "" "sha" }}|{{ htpasswd "x:" "p" "bcrypt" }}', sd);
e('{{ bcrypt (repeat 73 "x") }}|{{ htpasswd "u" (repeat 80 "x") "" }}|{{ bcrypt "x" | len }}|{{ bcrypt (repeat 72 "y") | substr 0 7 }}|{{ htpasswd "u" "p" "md5" | substr 0 9 }}');
e('{{ certSANs .c | toJson }}|{{ certSANs (printf "junk\\n%s" .c) | join "," }}|{{ certSANs .n | toJson }}|{{ printf "%T" (certSANs .c) }}', pems);
e('{{ index (.c | filterPEM "CERTIFICATE" | certSANs) 0 }}', pems);
e('{{ certSANs "x" }}');
e('{{ certSANs "" }}');
e('{{ certSANs .k }}', pems, { errors: 'any' });
e('{{ (buildCustomCert (b64enc .c) (b64enc .k)).Cert }}{{ (buildCustomCert (b64enc .c) (b64enc .k)).Key }}{{ printf "%T" (buildCustomCert (b64enc .c) (b64enc .k)) }}', pems);
e('{{ buildCustomCert "!!" "x" }}');
e('{{ $c := buildCustomCert (b64enc .c) (b64enc .k) }}{{ toJson $c }}|{{ $c }}|{{ kindOf $c }} {{ typeOf (genCA "x" 1) }} {{ typeIs "sprig.certificate" $c }}', pems);
e('{{ $c := buildCustomCert (b64enc .c) (b64enc .k) }}{{ $c.Nope }}', pems);
e('{{ buildCustomCert (b64enc .c) "%%" }}', pems);
e('{{ buildCustomCert (b64enc "nope") (b64enc .k) }}', pems);
e('{{ buildCustomCert (b64enc .c) (b64enc .c) }}', pems);
e('{{ buildCustomCert (b64enc .c) (b64enc "nope") }}', pems);
e('{{ genSignedCert "leaf" nil nil 1 (buildCustomCert (b64enc .c) (b64enc .o)) }}', pems);
e('{{ genSignedCertWithKey "leaf" nil nil 1 (buildCustomCert (b64enc .c) (b64enc .k)) "junk" }}', pems);
e('{{ genSelfSignedCert "x" (list "bad") nil 1 }}');
e('{{ genSelfSignedCert "x" (list 1) nil 1 }}');
e('{{ genSelfSignedCert "x" (list "01.2.3.4") nil 1 }}');
e('{{ genSelfSignedCert "x" (list "fe80::1%eth0") nil 1 }}');
e('{{ genSelfSignedCert "x" nil (list 2) 1 }}');
e('{{ genSelfSignedCertWithKey "x" nil (list "a") 1 .c }}', pems);
e('{{ genCAWithKey "x" 1 "nope" }}');
e('{{ genCAWithKey "x" 1 "-----BEGIN FOO PRIVATE KEY-----\\nAAAA\\n-----END FOO PRIVATE KEY-----\\n" }}');
e('{{ $c := genSelfSignedCertWithKey "svc" (list "10.0.0.1" "::1" "2001:db8:0:0:1:0:0:1" "::ffff:1.2.3.4") (list "a.example" "b.example") 30 .k }}{{ $c.Cert | certSANs | toJson }}|{{ eq $c.Key .k }}|{{ $c.Cert | substr 0 27 }}', pems);
e('{{ $ca := genCAWithKey "ca" 1 .k }}{{ $c := genSignedCertWithKey "leaf" nil (list "x.example") 1 $ca .o }}{{ $c.Cert | certSANs | toJson }}|{{ eq (printf "%s%s" $c.Cert $ca.Cert | filterCertChain "root") $ca.Cert }}|{{ eq (printf "%s%s" $ca.Cert $c.Cert | filterCertChain "leaf") $c.Cert }}|{{ eq $c.Key .o }}', pems);
e('{{ $ca := genCA "ca" 3650 }}{{ $c := genSignedCert "" (list "192.0.2.7") nil 1 $ca }}{{ $c.Cert | certSANs | toJson }}|{{ $c.Key | substr 0 31 }}|{{ printf "%T" $ca }}|{{ eq (printf "%s%s" $c.Cert $ca.Cert | filterCertChain "root") $ca.Cert }}');
e('{{ (genSelfSignedCert "s" nil nil -1).Cert | certSANs | len }}|{{ (genPrivateKey "ecdsa" | genSelfSignedCertWithKey "e" nil nil 1).Key | substr 0 30 }}|{{ (genPrivateKey "ed25519" | genCAWithKey "e" 1).Key | substr 0 27 }}');

export { cases };
