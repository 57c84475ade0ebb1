"""Why a login or a launch was refused, in words the person who sees the page can act on: each
refusal has a code, an HTTP status, and a problem and a fix in each of the launch pages'
languages. The problem names what failed; the fix says who must do what (often the platform's
administrator, since a learner cannot repair a registration).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from sala.lti.pages import error_page

ADMIN = {
    "en-US": "Ask the administrator of your learning platform to ",
    "pt-BR": "Peça ao administrador da sua plataforma de ensino que ",
    "es-ES": "Pida al administrador de su plataforma de aprendizaje que ",
}
RETRY = {
    "en-US": "Go back to the course and open the activity again.",
    "pt-BR": "Volte ao curso e abra a atividade de novo.",
    "es-ES": "Vuelva al curso y abra la actividad de nuevo.",
}

# code: (status, {locale: (problem, fix)}); a fix starting with "@admin " is addressed to the
# administrator, "@retry" is RETRY. Values in {braces} come from the refusal's parameters.
_MESSAGES: dict[str, tuple[int, dict[str, tuple[str, str]]]] = {
    "missing_parameters": (
        400,
        {
            "en-US": (
                "The login request lacks {names}.",
                "@admin check that sala's login URL is configured as the tool's OpenID "
                "Connect login initiation URL.",
            ),
            "pt-BR": (
                "A solicitação de login não tem {names}.",
                "@admin confira se a URL de login do sala está configurada como a URL de "
                "início de login OpenID Connect da ferramenta.",
            ),
            "es-ES": (
                "La solicitud de inicio de sesión no incluye {names}.",
                "@admin compruebe que la URL de inicio de sesión de sala está configurada "
                "como la URL de inicio de sesión OpenID Connect de la herramienta.",
            ),
        },
    ),
    "unknown_platform": (
        400,
        {
            "en-US": (
                "sala does not know the platform {issuer} (client {client_id}).",
                "@admin register sala (LTI Dynamic Registration, or `sala lti add-platform` "
                "on the sala server) with this issuer and client ID.",
            ),
            "pt-BR": (
                "O sala não conhece a plataforma {issuer} (cliente {client_id}).",
                "@admin registre o sala (LTI Dynamic Registration, ou `sala lti "
                "add-platform` no servidor do sala) com este emissor e este ID de cliente.",
            ),
            "es-ES": (
                "sala no conoce la plataforma {issuer} (cliente {client_id}).",
                "@admin registre sala (LTI Dynamic Registration, o `sala lti add-platform` "
                "en el servidor de sala) con este emisor y este ID de cliente.",
            ),
        },
    ),
    "http_not_allowed": (
        400,
        {
            "en-US": (
                "sala accepts LTI launches over HTTPS only, and its public address is {url}.",
                "sala's administrator must set SALA_PUBLIC_URL to its https:// address "
                "(behind a TLS proxy). SALA_LTI_ALLOW_HTTP=true is for test servers only.",
            ),
            "pt-BR": (
                "O sala só aceita acessos LTI por HTTPS, e o endereço público dele é {url}.",
                "O administrador do sala deve definir SALA_PUBLIC_URL com o endereço https:// "
                "(atrás de um proxy TLS). SALA_LTI_ALLOW_HTTP=true é só para servidores de teste.",
            ),
            "es-ES": (
                "sala solo acepta lanzamientos LTI por HTTPS, y su dirección pública es {url}.",
                "El administrador de sala debe configurar SALA_PUBLIC_URL con su dirección "
                "https:// (detrás de un proxy TLS). SALA_LTI_ALLOW_HTTP=true es solo para "
                "servidores de prueba.",
            ),
        },
    ),
    "platform_http": (
        400,
        {
            "en-US": (
                "The platform's {what} is not an https:// address: {url}.",
                "@admin register the platform with its https:// URLs.",
            ),
            "pt-BR": (
                "O endereço {what} da plataforma não é https://: {url}.",
                "@admin registre a plataforma com as URLs https:// dela.",
            ),
            "es-ES": (
                "La dirección {what} de la plataforma no es https://: {url}.",
                "@admin registre la plataforma con sus URL https://.",
            ),
        },
    ),
    "bad_target": (
        400,
        {
            "en-US": (
                "The activity points to {url}, which is not this sala server.",
                "@admin set the tool's launch URL to {expected}.",
            ),
            "pt-BR": (
                "A atividade aponta para {url}, que não é este servidor do sala.",
                "@admin defina a URL de lançamento da ferramenta como {expected}.",
            ),
            "es-ES": (
                "La actividad apunta a {url}, que no es este servidor de sala.",
                "@admin configure la URL de lanzamiento de la herramienta como {expected}.",
            ),
        },
    ),
    "missing_token": (
        400,
        {
            "en-US": (
                "The launch did not carry an id_token and a state.",
                "@retry If it happens again, the platform is not sending LTI 1.3 launches to "
                "this address: check the tool's redirect URL.",
            ),
            "pt-BR": (
                "O lançamento não trouxe um id_token e um state.",
                "@retry Se acontecer de novo, a plataforma não está enviando lançamentos LTI "
                "1.3 para este endereço: confira a URL de redirecionamento da ferramenta.",
            ),
            "es-ES": (
                "El lanzamiento no trajo un id_token y un state.",
                "@retry Si vuelve a ocurrir, la plataforma no envía lanzamientos LTI 1.3 a "
                "esta dirección: revise la URL de redirección de la herramienta.",
            ),
        },
    ),
    "malformed_token": (
        400,
        {
            "en-US": ("The id_token is not a signed JWT sala can read.", "@retry"),
            "pt-BR": ("O id_token não é um JWT assinado que o sala consiga ler.", "@retry"),
            "es-ES": ("El id_token no es un JWT firmado que sala pueda leer.", "@retry"),
        },
    ),
    "keys_unavailable": (
        502,
        {
            "en-US": (
                "sala could not read the platform's public keys: {detail}.",
                "@admin check the platform's JWKS URL in sala's registration and that sala's "
                "server can reach it.",
            ),
            "pt-BR": (
                "O sala não conseguiu ler as chaves públicas da plataforma: {detail}.",
                "@admin confira a URL JWKS da plataforma no registro do sala e se o servidor "
                "do sala consegue acessá-la.",
            ),
            "es-ES": (
                "sala no pudo leer las claves públicas de la plataforma: {detail}.",
                "@admin revise la URL JWKS de la plataforma en el registro de sala y que el "
                "servidor de sala pueda alcanzarla.",
            ),
        },
    ),
    "unknown_key": (
        401,
        {
            "en-US": (
                "The id_token was signed with a key (kid {kid}) the platform does not publish.",
                "@admin check that the JWKS URL registered in sala is this platform's.",
            ),
            "pt-BR": (
                "O id_token foi assinado com uma chave (kid {kid}) que a plataforma não publica.",
                "@admin confira se a URL JWKS registrada no sala é a desta plataforma.",
            ),
            "es-ES": (
                "El id_token se firmó con una clave (kid {kid}) que la plataforma no publica.",
                "@admin compruebe que la URL JWKS registrada en sala es la de esta plataforma.",
            ),
        },
    ),
    "bad_signature": (
        401,
        {
            "en-US": (
                "The id_token's signature does not verify with the platform's public key.",
                "@admin check that the JWKS URL registered in sala is this platform's.",
            ),
            "pt-BR": (
                "A assinatura do id_token não confere com a chave pública da plataforma.",
                "@admin confira se a URL JWKS registrada no sala é a desta plataforma.",
            ),
            "es-ES": (
                "La firma del id_token no se verifica con la clave pública de la plataforma.",
                "@admin compruebe que la URL JWKS registrada en sala es la de esta plataforma.",
            ),
        },
    ),
    "wrong_audience": (
        401,
        {
            "en-US": (
                "The id_token was issued for {audience}, not for sala's client {client_id}.",
                "@admin check the client ID sala was registered with.",
            ),
            "pt-BR": (
                "O id_token foi emitido para {audience}, não para o cliente {client_id} do sala.",
                "@admin confira o ID de cliente com que o sala foi registrado.",
            ),
            "es-ES": (
                "El id_token se emitió para {audience}, no para el cliente {client_id} de sala.",
                "@admin revise el ID de cliente con el que se registró sala.",
            ),
        },
    ),
    "expired": (
        401,
        {
            "en-US": (
                "The id_token expired {seconds} seconds ago.",
                "@retry If it keeps happening, the clock of the platform's or sala's server "
                "is wrong: both should use NTP.",
            ),
            "pt-BR": (
                "O id_token expirou há {seconds} segundos.",
                "@retry Se continuar acontecendo, o relógio do servidor da plataforma ou do "
                "sala está errado: os dois devem usar NTP.",
            ),
            "es-ES": (
                "El id_token caducó hace {seconds} segundos.",
                "@retry Si sigue ocurriendo, el reloj del servidor de la plataforma o de sala "
                "está mal: ambos deben usar NTP.",
            ),
        },
    ),
    "not_yet_valid": (
        401,
        {
            "en-US": (
                "The id_token is dated {seconds} seconds in the future.",
                "@admin check the clocks of the platform's and sala's servers (NTP).",
            ),
            "pt-BR": (
                "O id_token tem data {seconds} segundos no futuro.",
                "@admin confira os relógios dos servidores da plataforma e do sala (NTP).",
            ),
            "es-ES": (
                "El id_token tiene fecha {seconds} segundos en el futuro.",
                "@admin revise los relojes de los servidores de la plataforma y de sala (NTP).",
            ),
        },
    ),
    "wrong_version": (
        400,
        {
            "en-US": (
                "The launch is LTI version {version}; sala speaks LTI 1.3.0.",
                "@admin add sala as an LTI 1.3 (LTI Advantage) tool.",
            ),
            "pt-BR": (
                "O lançamento é da versão {version} do LTI; o sala usa LTI 1.3.0.",
                "@admin adicione o sala como ferramenta LTI 1.3 (LTI Advantage).",
            ),
            "es-ES": (
                "El lanzamiento es de la versión {version} de LTI; sala usa LTI 1.3.0.",
                "@admin añada sala como herramienta LTI 1.3 (LTI Advantage).",
            ),
        },
    ),
    "wrong_message_type": (
        400,
        {
            "en-US": (
                "The launch is a {message_type} message; sala opens resource links "
                "(LtiResourceLinkRequest) and deep linking (LtiDeepLinkingRequest).",
                "@admin place sala as a resource link or in the content picker.",
            ),
            "pt-BR": (
                "O lançamento é uma mensagem {message_type}; o sala abre links de recurso "
                "(LtiResourceLinkRequest) e deep linking (LtiDeepLinkingRequest).",
                "@admin use o sala como link de recurso ou no seletor de conteúdo.",
            ),
            "es-ES": (
                "El lanzamiento es un mensaje {message_type}; sala abre enlaces de recurso "
                "(LtiResourceLinkRequest) y deep linking (LtiDeepLinkingRequest).",
                "@admin use sala como enlace de recurso o en el selector de contenido.",
            ),
        },
    ),
    "unknown_deployment": (
        403,
        {
            "en-US": (
                "The deployment {deployment_id} of {issuer} is not registered in sala.",
                "@admin register the deployment: `sala lti add-platform` with "
                "--deployment {deployment_id}, or register sala again.",
            ),
            "pt-BR": (
                "A implantação {deployment_id} de {issuer} não está registrada no sala.",
                "@admin registre a implantação: `sala lti add-platform` com --deployment "
                "{deployment_id}, ou registre o sala de novo.",
            ),
            "es-ES": (
                "El despliegue {deployment_id} de {issuer} no está registrado en sala.",
                "@admin registre el despliegue: `sala lti add-platform` con --deployment "
                "{deployment_id}, o registre sala de nuevo.",
            ),
        },
    ),
    "missing_claim": (
        400,
        {
            "en-US": (
                "The id_token lacks the claim {claim}, which a {message_type} must have.",
                "@admin check the platform's LTI 1.3 configuration for sala.",
            ),
            "pt-BR": (
                "O id_token não tem a claim {claim}, obrigatória em {message_type}.",
                "@admin confira a configuração LTI 1.3 da plataforma para o sala.",
            ),
            "es-ES": (
                "El id_token no incluye la claim {claim}, obligatoria en {message_type}.",
                "@admin revise la configuración LTI 1.3 de la plataforma para sala.",
            ),
        },
    ),
    "replayed": (
        401,
        {
            "en-US": (
                "This launch was already used (its nonce was seen before): a launch opens the "
                "activity once.",
                "@retry Do not reload or resend the launch page.",
            ),
            "pt-BR": (
                "Este lançamento já foi usado (o nonce já foi visto): cada lançamento abre a "
                "atividade uma vez.",
                "@retry Não recarregue nem reenvie a página de lançamento.",
            ),
            "es-ES": (
                "Este lanzamiento ya se usó (su nonce ya se vio): cada lanzamiento abre la "
                "actividad una vez.",
                "@retry No recargue ni reenvíe la página de lanzamiento.",
            ),
        },
    ),
    "state_unknown": (
        400,
        {
            "en-US": (
                "The login this launch belongs to has expired, was already used, or was not "
                "started by sala.",
                "@retry",
            ),
            "pt-BR": (
                "O login deste lançamento expirou, já foi usado ou não foi iniciado pelo sala.",
                "@retry",
            ),
            "es-ES": (
                "El inicio de sesión de este lanzamiento caducó, ya se usó o no lo inició sala.",
                "@retry",
            ),
        },
    ),
    "state_mismatch": (
        401,
        {
            "en-US": (
                "The launch does not match the login this browser started ({detail}).",
                "@retry Open the activity from the course, in this browser.",
            ),
            "pt-BR": (
                "O lançamento não corresponde ao login que este navegador iniciou ({detail}).",
                "@retry Abra a atividade a partir do curso, neste navegador.",
            ),
            "es-ES": (
                "El lanzamiento no corresponde al inicio de sesión que comenzó este navegador "
                "({detail}).",
                "@retry Abra la actividad desde el curso, en este navegador.",
            ),
        },
    ),
    "cookie_missing": (
        401,
        {
            "en-US": (
                "Your browser did not send back the cookie sala set when the login started, "
                "so sala cannot tell that this launch is yours. Browsers that block "
                "third-party cookies do this inside the course page.",
                "Allow cookies for this site, or ask your course to open sala in a new "
                "window. @admin set the activity to open in a new window.",
            ),
            "pt-BR": (
                "Seu navegador não devolveu o cookie que o sala definiu no início do login, "
                "então o sala não tem como saber que este lançamento é seu. Navegadores que "
                "bloqueiam cookies de terceiros fazem isso dentro da página do curso.",
                "Permita cookies para este site, ou abra o sala em uma nova janela. @admin "
                "configure a atividade para abrir em nova janela.",
            ),
            "es-ES": (
                "Su navegador no devolvió la cookie que sala estableció al iniciar la sesión, "
                "así que sala no puede saber que este lanzamiento es suyo. Los navegadores que "
                "bloquean cookies de terceros lo hacen dentro de la página del curso.",
                "Permita cookies para este sitio, o abra sala en una ventana nueva. @admin "
                "configure la actividad para abrirse en una ventana nueva.",
            ),
        },
    ),
    "storage_refused": (
        401,
        {
            "en-US": (
                "The platform's storage does not hold this launch's login, so sala cannot "
                "tell that this launch is yours.",
                "@retry Open the activity from the course, in this browser.",
            ),
            "pt-BR": (
                "O armazenamento da plataforma não tem o login deste lançamento, então o sala "
                "não tem como saber que este lançamento é seu.",
                "@retry Abra a atividade a partir do curso, neste navegador.",
            ),
            "es-ES": (
                "El almacenamiento de la plataforma no tiene el inicio de sesión de este "
                "lanzamiento, así que sala no puede saber que este lanzamiento es suyo.",
                "@retry Abra la actividad desde el curso, en este navegador.",
            ),
        },
    ),
}

CODES = frozenset(_MESSAGES)


class Refused(Exception):
    """A login or launch sala refuses; `code` picks the words, `params` fill them in."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in _MESSAGES:
            raise ValueError(f"unknown refusal {code}")
        super().__init__(code)
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}

    @property
    def status(self) -> int:
        return _MESSAGES[self.code][0]

    def words(self, locale: str) -> tuple[str, str]:
        texts = _MESSAGES[self.code][1]
        problem, fix = texts.get(locale) or texts["en-US"]
        locale = locale if locale in texts else "en-US"
        fix = fix.replace("@admin ", ADMIN[locale]).replace("@retry", RETRY[locale])
        return problem.format(**self.params), fix.format(**self.params)

    def page(self, frame_ancestors: str, locale: str = "en-US") -> HTMLResponse:
        problem, fix = self.words(locale)
        response = error_page(self.status, problem, fix, frame_ancestors, locale)
        response.headers["X-LTI-Refusal"] = self.code
        return response
