package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		ct, err := libsandbox.LoadUnlocked(root(c), c.Args().First())
		if err != nil {
			return err
		}
		return printState(ct.State())
	},
}

// printState prints st as printJSON would, byte for byte, without
// encoding/json's reflection: a process's first Encode of a type builds
// its encoder (the type's fields, sync.Map caches), work that `state`,
// the verb clients poll, would do at every call. json.Indent only scans
// bytes.
func printState(st *libsandbox.State) error {
	b, err := indentState(st)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}

// indentState is what printJSON's Encoder writes for st: indented by
// two spaces, with a newline.
func indentState(st *libsandbox.State) ([]byte, error) {
	compact, err := marshalState(st)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// marshalState encodes st as encoding/json.Marshal does: the fields in
// State's order under their json names, annotations left out when empty
// (omitempty), strings escaped as encoding/json escapes them (specjson's
// encoders, tested against encoding/json's output). created goes through
// time.Time's MarshalJSON, as there: a year outside 0-9999 or a zone
// offset of a day or more (a hand-edited state.json) fails rather than
// printing a time clients cannot parse.
func marshalState(st *libsandbox.State) ([]byte, error) {
	created, err := st.Created.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err)
	}
	w := specjson.NewWriter(512)
	w.Byte('{')
	first := true
	w.Key(&first, `"ociVersion":`)
	specjson.EncString(w, &st.OCIVersion)
	w.Key(&first, `"id":`)
	specjson.EncString(w, &st.ID)
	w.Key(&first, `"pid":`)
	specjson.EncInt(w, &st.Pid)
	w.Key(&first, `"status":`)
	specjson.EncString(w, &st.Status)
	w.Key(&first, `"bundle":`)
	specjson.EncString(w, &st.Bundle)
	w.Key(&first, `"rootfs":`)
	specjson.EncString(w, &st.Rootfs)
	w.Key(&first, `"created":`)
	for _, c := range created {
		w.Byte(c)
	}
	if len(st.Annotations) != 0 {
		w.Key(&first, `"annotations":`)
		specjson.EncMap(w, &st.Annotations, specjson.EncString[string])
	}
	w.Key(&first, `"owner":`)
	specjson.EncString(w, &st.Owner)
	w.Byte('}')
	return w.Bytes(), nil
}
