package tickets

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTranscriptBytes bounds the transcript posted with AddTicketReply.
// WHMCS keeps a reply in a MySQL TEXT column (65,535 bytes) after
// HTML-escaping it, so the bound is measured the same way: UTF-8 bytes
// after escaping & < > " ' (see storedLen). 60,000 leaves room for the
// escaping of the notice line and for WHMCS's own additions.
const MaxTranscriptBytes = 60000

// transcriptTimeLayout is the timestamp of each line.
const transcriptTimeLayout = "2006-01-02 15:04"

// chatMessage is one message of an RC-CHAT conversation.
type chatMessage struct {
	From    string
	Body    string
	At      time.Time
	Private bool
}

// transcript is what a close posts to WHMCS.
type transcript struct {
	// TicketID is the RC-CHAT ticket id.
	TicketID string
	// ClosedBy is who closed it in RC-CHAT (may be empty).
	ClosedBy string
	// Ref is a unique marker that lets a retry recognise a reply that
	// WHMCS stored although its answer was lost.
	Ref string
	// Messages are in any order; private ones are left out.
	Messages []chatMessage
	// Location is the time zone of the timestamps.
	Location *time.Location
	// Limit is the size bound (MaxTranscriptBytes when zero).
	Limit int
}

// Format renders the transcript:
//
//	RC-CHAT ticket 123: conversation transcript
//	Period: 2024-05-01 09:58 to 2024-05-01 10:30 (UTC)
//	Closed by: Maria
//	Ref: rcchat-1f2e3d4c5b6a7988
//
//	[2024-05-01 09:58] João: Olá, meu site caiu
//	[2024-05-01 10:01] Maria: Verificando…
//
// one line per public message, oldest first, its text on one line (line
// breaks become " / "). When the result would exceed the limit, the oldest
// lines are dropped and a notice line says how many; a single line too
// long on its own is cut.
func (t transcript) Format() string {
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	limit := t.Limit
	if limit <= 0 {
		limit = MaxTranscriptBytes
	}
	msgs := make([]chatMessage, 0, len(t.Messages))
	for _, m := range t.Messages {
		if !m.Private {
			msgs = append(msgs, m)
		}
	}
	// Stable, so messages with the same timestamp keep RC-CHAT's order.
	slices.SortStableFunc(msgs, func(a, b chatMessage) int { return a.At.Compare(b.At) })

	var h strings.Builder
	fmt.Fprintf(&h, "RC-CHAT ticket %s: conversation transcript\n", oneLine(t.TicketID))
	if len(msgs) == 0 {
		h.WriteString("Period: no public messages\n")
	} else {
		fmt.Fprintf(&h, "Period: %s to %s (%s)\n", msgs[0].At.In(loc).Format(transcriptTimeLayout),
			msgs[len(msgs)-1].At.In(loc).Format(transcriptTimeLayout), loc.String())
	}
	if by := oneLine(t.ClosedBy); by != "" {
		fmt.Fprintf(&h, "Closed by: %s\n", by)
	}
	if t.Ref != "" {
		fmt.Fprintf(&h, "Ref: %s\n", t.Ref)
	}
	h.WriteString("\n")
	header := h.String()

	lines := make([]string, len(msgs))
	for i, m := range msgs {
		lines[i] = transcriptLine(m, loc)
	}
	return fit(header, lines, limit)
}

// transcriptLine renders `[YYYY-MM-DD HH:MM] From: text`.
func transcriptLine(m chatMessage, loc *time.Location) string {
	from := oneLine(m.From)
	if from == "" {
		from = "(unknown)"
	}
	var parts []string
	for _, l := range strings.FieldsFunc(m.Body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = oneLine(l); l != "" {
			parts = append(parts, l)
		}
	}
	text := strings.Join(parts, " / ")
	if text == "" {
		text = "(no text)"
	}
	return "[" + m.At.In(loc).Format(transcriptTimeLayout) + "] " + from + ": " + text
}

// fit joins header and lines within limit (as storedLen measures it),
// keeping the newest lines.
func fit(header string, lines []string, limit int) string {
	total := storedLen(header)
	for _, l := range lines {
		total += storedLen(l) + 1
	}
	if total <= limit {
		return header + strings.Join(lines, "\n")
	}
	// Room for the notice, sized for the largest count it could report.
	reserve := storedLen(omittedNotice(len(lines), limit)) + 1
	budget := limit - storedLen(header) - reserve
	first := len(lines)
	for first > 0 {
		n := storedLen(lines[first-1]) + 1
		if n > budget {
			break
		}
		budget -= n
		first--
	}
	kept := lines[first:]
	if first == len(lines) && len(lines) > 0 && budget > 1+len("…") {
		// Not even the newest line fits: keep as much of it as fits.
		kept = []string{cutTo(lines[len(lines)-1], budget-1)}
		first = len(lines) - 1
	}
	var b strings.Builder
	b.WriteString(header)
	if first > 0 {
		b.WriteString(omittedNotice(first, limit))
		if len(kept) > 0 {
			b.WriteString("\n")
		}
	}
	b.WriteString(strings.Join(kept, "\n"))
	return b.String()
}

// omittedNotice says how many older messages were left out.
func omittedNotice(n, limit int) string {
	return fmt.Sprintf("[%d earlier messages left out: transcripts are limited to %d characters]", n, limit)
}

// cutTo shortens s to at most n stored bytes, ending with an ellipsis.
func cutTo(s string, n int) string {
	const ellipsis = "…"
	n -= len(ellipsis)
	used := 0
	for i, r := range s {
		w := storedRuneLen(r)
		if used+w > n {
			return s[:i] + ellipsis
		}
		used += w
	}
	return s
}

// storedLen is the size of s once WHMCS has HTML-escaped it.
func storedLen(s string) int {
	n := 0
	for _, r := range s {
		n += storedRuneLen(r)
	}
	return n
}

// storedRuneLen is the stored size of one rune (htmlspecialchars with
// ENT_QUOTES: &amp; &lt; &gt; &quot; &#039;).
func storedRuneLen(r rune) int {
	switch r {
	case '&':
		return 5
	case '<', '>':
		return 4
	case '"', '\'':
		return 6
	case utf8.RuneError:
		return 3
	}
	return utf8.RuneLen(r)
}
