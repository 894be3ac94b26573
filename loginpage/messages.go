package loginpage

// messages is every piece of text the pages show, in one language. Text
// lives here rather than in the templates so both languages are reviewed
// side by side and the templates hold only structure.
type messages struct {
	Product string

	SignIn       string
	SignInIntro  string
	Email        string
	Password     string
	Errors       map[ErrorKind]string
	GenericError string

	SuspendedTitle     string
	SuspendedNamed     [2]string // text before and after the company name
	SuspendedUnnamed   string
	SuspendedHowTo     string
	CancelledTitle     string
	CancelledNamed     [2]string
	CancelledUnnamed   string
	CancelledHowTo     string
	ClientArea         string
	SignOut            string
	SignInOtherAccount string
}

var catalog = map[Lang]*messages{
	LangPtBR: {
		Product: "RC-CHAT",

		SignIn:      "Entrar",
		SignInIntro: "Use o e-mail da sua conta e a senha do serviço RC-CHAT.",
		Email:       "E-mail",
		Password:    "Senha",
		Errors: map[ErrorKind]string{
			ErrorInvalidCredentials: "E-mail ou senha inválidos.",
			ErrorCompanySuspended:   "A assinatura da sua empresa está suspensa. Regularize o pagamento na área do cliente para voltar a acessar.",
			ErrorTooManyAttempts:    "Muitas tentativas de acesso. Aguarde alguns minutos e tente novamente.",
			ErrorWHMCSUnavailable:   "O serviço de autenticação está indisponível no momento. Tente novamente em instantes.",
			ErrorCSRF:               "O formulário expirou. Tente novamente.",
			ErrorCancelled:          "O acesso da sua empresa foi cancelado. Fale com o suporte para contratar novamente.",
		},
		GenericError: "Não foi possível entrar. Tente novamente.",

		SuspendedTitle:     "Assinatura suspensa",
		SuspendedNamed:     [2]string{"A assinatura de ", " está suspensa, por isso o acesso ao RC-CHAT foi bloqueado."},
		SuspendedUnnamed:   "A assinatura da sua empresa está suspensa, por isso o acesso ao RC-CHAT foi bloqueado.",
		SuspendedHowTo:     "Pague a fatura em aberto ou reative o serviço na área do cliente. O acesso volta assim que o pagamento for confirmado.",
		CancelledTitle:     "Assinatura cancelada",
		CancelledNamed:     [2]string{"A assinatura de ", " foi cancelada e o acesso ao RC-CHAT foi encerrado."},
		CancelledUnnamed:   "A assinatura da sua empresa foi cancelada e o acesso ao RC-CHAT foi encerrado.",
		CancelledHowTo:     "Para contratar novamente, acesse a área do cliente ou fale com o suporte.",
		ClientArea:         "Ir para a área do cliente",
		SignOut:            "Sair",
		SignInOtherAccount: "Entrar com outra conta",
	},
	LangEn: {
		Product: "RC-CHAT",

		SignIn:      "Sign in",
		SignInIntro: "Use your account email and your RC-CHAT service password.",
		Email:       "Email",
		Password:    "Password",
		Errors: map[ErrorKind]string{
			ErrorInvalidCredentials: "Invalid email or password.",
			ErrorCompanySuspended:   "Your company's subscription is suspended. Settle the payment in the client area to regain access.",
			ErrorTooManyAttempts:    "Too many sign-in attempts. Wait a few minutes and try again.",
			ErrorWHMCSUnavailable:   "The sign-in service is unavailable right now. Please try again shortly.",
			ErrorCSRF:               "The form expired. Please try again.",
			ErrorCancelled:          "Your company's access has been cancelled. Contact support to subscribe again.",
		},
		GenericError: "Could not sign you in. Please try again.",

		SuspendedTitle:     "Subscription suspended",
		SuspendedNamed:     [2]string{"The subscription of ", " is suspended, so access to RC-CHAT is blocked."},
		SuspendedUnnamed:   "Your company's subscription is suspended, so access to RC-CHAT is blocked.",
		SuspendedHowTo:     "Pay the open invoice or reactivate the service in the client area. Access returns as soon as the payment is confirmed.",
		CancelledTitle:     "Subscription cancelled",
		CancelledNamed:     [2]string{"The subscription of ", " was cancelled and access to RC-CHAT has ended."},
		CancelledUnnamed:   "Your company's subscription was cancelled and access to RC-CHAT has ended.",
		CancelledHowTo:     "To subscribe again, visit the client area or contact support.",
		ClientArea:         "Go to the client area",
		SignOut:            "Sign out",
		SignInOtherAccount: "Sign in with another account",
	},
}

func messagesFor(l Lang) *messages { return catalog[l.normalize()] }
