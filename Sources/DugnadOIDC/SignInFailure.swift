/// Why a sign-in did not happen. Each is answered with a page that says so; nothing is
/// signed in. `code` is stable (tests and the page's `data-reason` read it).
public enum SignInFailure: Error, Sendable, Equatable {
    /// The callback's `state` is unknown, used already, expired, or not this browser's.
    case badState
    /// The provider refused the authorization code (used already, expired, not ours).
    case codeRefused(String)
    /// The provider reported an error at the callback (`error=access_denied`, say).
    case providerError(String)
    /// The provider could not be reached, or answered something that is not OpenID Connect.
    case providerUnreachable(String)
    /// The ID token failed a check: signature, `iss`, `aud`, `exp`, algorithm.
    case badIDToken(String)
    /// The ID token's `nonce` is not the one this login sent.
    case badNonce
    /// The ID token's `exp` has passed.
    case expiredIDToken
    /// The claims do not name a usable user.
    case unusableClaims(String)

    public var code: String {
        switch self {
        case .badState: "bad_state"
        case .codeRefused: "code_refused"
        case .providerError: "provider_error"
        case .providerUnreachable: "provider_unreachable"
        case .badIDToken: "bad_id_token"
        case .badNonce: "bad_nonce"
        case .expiredIDToken: "expired_id_token"
        case .unusableClaims: "unusable_claims"
        }
    }

    /// HTTP status of the page: the browser's request was wrong (400), or the provider
    /// failed us (502).
    public var httpStatus: Int {
        switch self {
        case .providerUnreachable: 502
        default: 400
        }
    }

    /// What happened, for the log (never a token, code or secret).
    public var detail: String {
        switch self {
        case .badState: "unknown, used or expired state, or not this browser's"
        case .codeRefused(let why), .providerError(let why), .providerUnreachable(let why), .badIDToken(let why),
            .unusableClaims(let why):
            why
        case .badNonce: "nonce mismatch"
        case .expiredIDToken: "ID token expired"
        }
    }

    /// The page's heading and text in English (`en`) or bokmål (`nb`).
    public func page(language: String) -> (title: String, text: String) {
        let nb = language == "nb"
        switch self {
        case .badState:
            return nb
                ? (
                    "Innloggingen kunne ikke fullføres",
                    "Denne innloggingen er utløpt, allerede brukt eller startet i en annen nettleser. Start på nytt."
                )
                : (
                    "Sign-in could not be completed",
                    "This sign-in has expired, was used already or was started in another browser. Start again."
                )
        case .codeRefused:
            return nb
                ? (
                    "Innloggingen ble avvist",
                    "Identitetsleverandøren godtok ikke innloggingen (koden er brukt eller utløpt). Start på nytt."
                )
                : (
                    "Sign-in was refused",
                    "The identity provider did not accept this sign-in (its code was used or has expired). Start again."
                )
        case .providerError:
            return nb
                ? (
                    "Innloggingen ble avbrutt",
                    "Identitetsleverandøren avbrøt innloggingen. Start på nytt, eller spør en administrator."
                )
                : ("Sign-in was cancelled", "The identity provider ended the sign-in. Start again, or ask an administrator.")
        case .providerUnreachable:
            return nb
                ? ("Identitetsleverandøren svarer ikke", "Dugnad får ikke kontakt med innloggingstjenesten. Prøv igjen om litt.")
                : ("The identity provider is not answering", "Dugnad cannot reach the sign-in service. Try again in a while.")
        case .badIDToken, .badNonce, .expiredIDToken:
            return nb
                ? (
                    "Innloggingen kunne ikke bekreftes",
                    "Svaret fra identitetsleverandøren besto ikke kontrollen, så du er ikke logget inn. Start på nytt."
                )
                : (
                    "Sign-in could not be verified",
                    "The identity provider's answer failed the hub's checks, so you are not signed in. Start again."
                )
        case .unusableClaims:
            return nb
                ? ("Kontoen kan ikke brukes", "Identitetsleverandøren oppga ikke hvem du er. Spør en administrator.")
                : ("This account cannot be used", "The identity provider did not say who you are. Ask an administrator.")
        }
    }
}
