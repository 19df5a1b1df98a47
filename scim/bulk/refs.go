package bulk

import (
	"encoding/json"
	"slices"
	"strings"
)

// refPrefix marks a bulkId reference (RFC 7644 §3.7.2): a JSON string value
// "bulkId:qwerty" anywhere in an operation's data, or the id segment of its
// path, stands for the id of the resource the POST with bulkId "qwerty"
// creates.
const refPrefix = "bulkId:"

// stringValue is one JSON string value (never an object key) of a document:
// its quoted token data[start:end] and its decoded text.
type stringValue struct {
	start, end int
	text       string
}

// stringValues lists the string values of data, which must be valid JSON
// (it is: data is a json.RawMessage of a document that decoded). Scanning
// the bytes instead of decoding and re-encoding keeps everything else of the
// body exactly as sent - key order, duplicate keys, number spelling - so the
// engine decodes what the client wrote.
func stringValues(data []byte) []stringValue {
	var out []stringValue
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		j := i + 1
		escaped := false
		for ; j < len(data) && data[j] != '"'; j++ {
			if data[j] == '\\' {
				escaped = true
				j++
			}
		}
		if j >= len(data) {
			return out // unterminated: not valid JSON, nothing more to find
		}
		end := j + 1
		k := end
		for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
			k++
		}
		if k < len(data) && data[k] == ':' {
			i = j // an object key
			continue
		}
		tok := data[i:end]
		var text string
		if escaped {
			if json.Unmarshal(tok, &text) != nil {
				i = j
				continue
			}
		} else {
			text = string(tok[1 : len(tok)-1])
		}
		out = append(out, stringValue{start: i, end: end, text: text})
		i = j
	}
	return out
}

// dataRefs returns the bulkIds data refers to, in order, without repeats.
func dataRefs(data []byte) []string {
	var refs []string
	for _, v := range stringValues(data) {
		if id, ok := strings.CutPrefix(v.text, refPrefix); ok && !slices.Contains(refs, id) {
			refs = append(refs, id)
		}
	}
	return refs
}

// substitute returns data with every "bulkId:x" value replaced by the JSON
// string of ids[x]; every x must be in ids.
func substitute(data []byte, ids map[string]string) []byte {
	vals := stringValues(data)
	out := make([]byte, 0, len(data))
	last := 0
	for _, v := range vals {
		id, ok := strings.CutPrefix(v.text, refPrefix)
		if !ok {
			continue
		}
		q, _ := json.Marshal(ids[id])
		out = append(out, data[last:v.start]...)
		out = append(out, q...)
		last = v.end
	}
	return append(out, data[last:]...)
}
