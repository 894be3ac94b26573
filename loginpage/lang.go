package loginpage

import (
	"strings"

	"github.com/rcchat/caddy-whmcs-auth/gate"
)

// Lang is the language a page is rendered in, as its BCP 47 tag.
type Lang string

// The languages the pages exist in. RC-CHAT's users are mostly Brazilian,
// so Portuguese is the default and English the alternative.
const (
	LangPtBR Lang = "pt-BR"
	LangEn   Lang = "en"
)

// LangFor picks the page language from an Accept-Language header.
func LangFor(acceptLanguage string) Lang {
	if gate.WantsEnglish(acceptLanguage) {
		return LangEn
	}
	return LangPtBR
}

// normalize maps any value to a language the pages exist in, so a zero or
// mistyped Lang still renders (in the default language) instead of failing.
func (l Lang) normalize() Lang {
	primary, _, _ := strings.Cut(string(l), "-")
	if strings.EqualFold(primary, "en") {
		return LangEn
	}
	return LangPtBR
}
