package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Genesis is the prev of the first record of a trail.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// CheckpointType is the type of checkpoint records.
const CheckpointType = "audit.checkpoint"

// Record is one line of the trail.
type Record struct {
	// Seq numbers records from 1, without gaps, across files and restarts.
	Seq uint64 `json:"seq"`
	// Time is when the record was written (the event's own time when it had one).
	Time time.Time `json:"time"`
	// Type names the event.
	Type string `json:"type"`
	// Actor is who did it, when known.
	Actor string `json:"actor,omitempty"`
	// Fields hold the event's data.
	Fields map[string]any `json:"fields,omitempty"`
	// Prev is the hash of the previous record (Genesis for the first).
	Prev string `json:"prev"`
	// Hash is the SHA-256 of this record's canonical bytes, in hex.
	Hash string `json:"hash,omitempty"`
}

// hashSuffix opens the trailing member every line ends with.
var hashSuffix = []byte(`,"hash":"`)

// lineLen of the hash member: `,"hash":"` + 64 hex + `"}`.
const hashMemberLen = 9 + 64 + 2

// encode returns the line (with its newline) for r, filling r.Hash.
func encode(r *Record) ([]byte, error) {
	r.Hash = ""
	canon, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("audit: encoding record: %w", err)
	}
	sum := sha256.Sum256(canon)
	r.Hash = hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(canon)+hashMemberLen+1)
	line = append(line, canon[:len(canon)-1]...)
	line = append(line, hashSuffix...)
	line = append(line, r.Hash...)
	line = append(line, '"', '}', '\n')
	return line, nil
}

var (
	errNoHash    = errors.New("no trailing hash member")
	errBadHash   = errors.New("hash does not match the record's bytes")
	errNotRecord = errors.New("not a record")
)

// decode parses one line (without its newline) and checks that its hash matches its bytes.
func decode(line []byte) (*Record, error) {
	if len(line) < hashMemberLen+2 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return nil, errNoHash
	}
	cut := len(line) - hashMemberLen
	if !bytes.Equal(line[cut:cut+len(hashSuffix)], hashSuffix) {
		return nil, errNoHash
	}
	want := line[cut+len(hashSuffix) : len(line)-2]
	if !isLowerHex(want) {
		return nil, errNoHash
	}
	canon := make([]byte, 0, cut+1)
	canon = append(canon, line[:cut]...)
	canon = append(canon, '}')
	sum := sha256.Sum256(canon)
	if hex.EncodeToString(sum[:]) != string(want) {
		return nil, errBadHash
	}
	var r Record
	d := json.NewDecoder(bytes.NewReader(canon))
	d.UseNumber()
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotRecord, err)
	}
	if d.More() || r.Seq == 0 || r.Hash != "" || len(r.Prev) != 64 || !isLowerHex([]byte(r.Prev)) {
		return nil, errNotRecord
	}
	r.Hash = string(want)
	return &r, nil
}

func isLowerHex(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// fromEvent turns an event into an unchained record.
func fromEvent(ev Event, now time.Time) Record {
	t := ev.Time
	if t.IsZero() {
		t = now
	}
	return Record{Time: t.UTC(), Type: ev.Type, Actor: ev.Actor, Fields: ev.Fields}
}
