package tokens

import (
	"net/http"
)

// discovery is the OpenID Provider Metadata the sidecar publishes. The
// lists are fixed: they state what the code in this package enforces.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// serveDiscovery answers /.well-known/openid-configuration. URLs derive
// from the issuer so that go-oidc, which insists the document's issuer
// equals the URL it fetched, accepts it.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := p.IssuerFor(r)
	d := discovery{
		Issuer:                            iss,
		AuthorizationEndpoint:             iss + pathAuthorize,
		TokenEndpoint:                     iss + pathToken,
		UserinfoEndpoint:                  iss + pathUserinfo,
		JWKSURI:                           iss + pathJWKS,
		RevocationEndpoint:                iss + pathRevoke,
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		IDTokenSigningAlgValuesSupported:  []string{"ES256"},
		ScopesSupported:                   knownScopes,
		SubjectTypesSupported:             []string{"public"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
	}
	writePublicJSON(w, d, "public, max-age=3600")
}
