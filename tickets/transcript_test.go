package tickets

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func TestTranscriptFormat(t *testing.T) {
	got := transcript{
		TicketID: "123",
		ClosedBy: "Maria",
		Ref:      "rcchat-00ff",
		Messages: []chatMessage{
			{From: "Maria", Body: "Resolvido!", At: t0.Add(5 * time.Minute)},
			{From: "João", Body: "Olá,\r\nmeu site caiu\n\n  de novo ", At: t0},
			{From: "Maria", Body: "cliente VIP, cuidado", At: t0.Add(time.Minute), Private: true},
			{From: "", Body: "", At: t0.Add(2 * time.Minute)},
		},
	}.Format()
	want := "RC-CHAT ticket 123: conversation transcript\n" +
		"Period: 2024-05-01 10:00 to 2024-05-01 10:05 (UTC)\n" +
		"Closed by: Maria\n" +
		"Ref: rcchat-00ff\n" +
		"\n" +
		"[2024-05-01 10:00] João: Olá, / meu site caiu / de novo\n" +
		"[2024-05-01 10:02] (unknown): (no text)\n" +
		"[2024-05-01 10:05] Maria: Resolvido!"
	if got != want {
		t.Fatalf("got:\n%s\n\nwant:\n%s", got, want)
	}
}

func TestTranscriptTimeZone(t *testing.T) {
	loc := time.FixedZone("BRT", -3*3600)
	got := transcript{TicketID: "1", Location: loc, Messages: []chatMessage{{From: "A", Body: "b", At: t0}}}.Format()
	if !strings.Contains(got, "[2024-05-01 07:00] A: b") || !strings.Contains(got, "(BRT)") {
		t.Fatalf("times not in the configured zone:\n%s", got)
	}
}

func TestTranscriptOnlyPrivate(t *testing.T) {
	got := transcript{TicketID: "9", Messages: []chatMessage{{From: "A", Body: "secret", At: t0, Private: true}}}.Format()
	if strings.Contains(got, "secret") || !strings.Contains(got, "Period: no public messages") {
		t.Fatalf("got:\n%s", got)
	}
}

func TestTranscriptTruncationKeepsNewest(t *testing.T) {
	var msgs []chatMessage
	for i := range 500 {
		msgs = append(msgs, chatMessage{From: "Cliente", Body: fmt.Sprintf("mensagem %03d %s", i, strings.Repeat("é&<", 30)),
			At: t0.Add(time.Duration(i) * time.Minute)})
	}
	const limit = 8000
	got := transcript{TicketID: "77", Messages: msgs, Limit: limit}.Format()
	if n := storedLen(got); n > limit {
		t.Fatalf("stored size %d over the limit %d", n, limit)
	}
	if !strings.HasSuffix(got, msgs[499].Body) {
		t.Fatal("the newest message was dropped")
	}
	lines := strings.Split(got, "\n")
	var notice string
	kept := 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "[20"):
			kept++
		case strings.HasPrefix(l, "["):
			notice = l
		}
	}
	if want := omittedNotice(500-kept, limit); notice != want {
		t.Fatalf("notice %q, want %q", notice, want)
	}
	if !strings.Contains(got, "Period: 2024-05-01 10:00 to") {
		t.Fatal("the period should still cover the whole conversation")
	}
	// The kept lines are the newest ones, contiguous and in order.
	if first := fmt.Sprintf("mensagem %03d", 500-kept); !strings.Contains(got, first) ||
		strings.Contains(got, fmt.Sprintf("mensagem %03d", 499-kept)) {
		t.Fatalf("kept lines are not the newest %d", kept)
	}
	if kept < 10 {
		t.Fatalf("only %d lines kept in %d bytes", kept, limit)
	}
}

func TestTranscriptOneHugeMessage(t *testing.T) {
	huge := strings.Repeat("ação ", 30000)
	got := transcript{TicketID: "78", Messages: []chatMessage{
		{From: "A", Body: "antes", At: t0},
		{From: "B", Body: huge, At: t0.Add(time.Minute)},
	}}.Format()
	if n := storedLen(got); n > MaxTranscriptBytes || n < MaxTranscriptBytes-200 {
		t.Fatalf("stored size %d, want just under %d", n, MaxTranscriptBytes)
	}
	if !strings.Contains(got, omittedNotice(1, MaxTranscriptBytes)) || !strings.HasSuffix(got, "…") ||
		!strings.Contains(got, "] B: ação ação") {
		t.Fatalf("huge message not cut as expected: %q…", got[:400])
	}
}

func TestStoredLen(t *testing.T) {
	if n := storedLen(`a&<>"'é`); n != 1+5+4+4+6+6+2 {
		t.Fatalf("storedLen = %d", n)
	}
}
