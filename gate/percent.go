package gate

// decodePercent decodes every valid %XX escape, %2F included, the way a
// server that routes on the decoded path does. An invalid escape is kept
// literally and reported through valid=false, so each caller chooses between
// rejecting it and treating it as a plain '%'. It does not allocate when s
// holds no '%'.
func decodePercent(s string) (decoded string, valid bool) {
	n := 0
	valid = true
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n++
			i += 2
		} else {
			valid = false
		}
	}
	if n == 0 {
		return s, valid
	}
	b := make([]byte, 0, len(s)-2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b), valid
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
