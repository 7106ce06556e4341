"""The built-in prompts: what each one says, in every language the box speaks.

Pure text. Names are what the call logic plays (`please-hold`, `vm-main-menu`,
`num-7`); the files are made from these texts at first start
(`ensure_builtin_prompts`) and an admin may replace any of them with a
recording of their own.
"""

from __future__ import annotations

from appliance.errors import ValidationError
from appliance.logic.business.localize import Language

# The box speaks the languages it is localised in, no more and no fewer.
LANGUAGES = tuple(language.value for language in Language)


_EN_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
               "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_PL_NUMBERS = ["zero", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem",
               "dziewięć", "dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście",
               "piętnaście", "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"]
_PL_TENS = ["dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt",
            "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"]
_PL_HUNDREDS = ["sto", "dwieście", "trzysta", "czterysta", "pięćset", "sześćset", "siedemset",
                "osiemset", "dziewięćset"]
_ZH_DIGITS = "零一二三四五六七八九"


def _number_prompts(language: str) -> dict[str, str]:
    if language == "en":
        words = {f"num-{n}": w for n, w in enumerate(_EN_NUMBERS)}
        words |= {f"num-{10 * (i + 2)}": w for i, w in enumerate(_EN_TENS)}
        return words | {"num-hundred": "hundred", "num-and": "and"}
    if language == "pl":
        words = {f"num-{n}": w for n, w in enumerate(_PL_NUMBERS)}
        words |= {f"num-{10 * (i + 2)}": w for i, w in enumerate(_PL_TENS)}
        words |= {f"num-{100 * (i + 1)}": w for i, w in enumerate(_PL_HUNDREDS)}
        # Feminine forms, for counting minuty (a feminine noun).
        return words | {"num-1f": "jedna", "num-2f": "dwie"}
    words = {f"num-{n}": c for n, c in enumerate(_ZH_DIGITS)}
    # 两 counts things ("两分钟"); 幺 is 1 when digits are read one by one.
    return words | {"num-10": "十", "num-hundred": "百", "num-liang": "两", "num-yao": "幺"}


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "you-are-caller-number": "You are caller number",
        "estimated-wait": "The estimated waiting time is",
        "minute": "minute",
        "minutes": "minutes",
        "please-hold": "Please hold the line. Your call will be answered as soon as possible.",
        "agent-number": "Agent number",
        "will-help-you": "will help you now.",
        "press-1-for-callback": "To be called back instead of waiting, press 1.",
        "callback-confirm": "Thank you. We will call you back as soon as an agent is free.",
        "thank-you-goodbye": "Thank you for calling. Goodbye.",
        "survey-question": ("Before you go: how satisfied were you with this call? "
                            "Press 1 for not at all, up to 5 for very satisfied."),
        "survey-thanks": "Thank you for your answer. Goodbye.",
        "campaign-sorry": "We are sorry, all our consultants are busy right now. We will call you again. Goodbye.",
        "campaign-removed": "We will not call you again. Goodbye.",
        "main-menu": "For sales, press 1. For support, press 2. For the operator, press 0.",
        "invalid-option": "Sorry, that is not a valid option.",
        "closed-greeting": "Thank you for calling. We are closed at the moment. "
                           "Please call again during our opening hours.",
        "leave-a-message": "Please leave a message after the tone.",
        "this-call-may-be-recorded": "This call may be recorded for quality and training purposes.",
        "press-9-to-decline-recording": "If you do not want this call to be recorded, press 9.",
    },
    "pl": {
        "you-are-caller-number": "Państwa połączenie jest w kolejce na pozycji numer",
        "estimated-wait": "Przewidywany czas oczekiwania to",
        "minute": "minuta",
        "minutes": "minuty",
        "minutes-many": "minut",
        "please-hold": "Prosimy pozostać na linii. Odbierzemy połączenie najszybciej, "
                       "jak to możliwe.",
        "agent-number": "Konsultant numer",
        "will-help-you": "zaraz Państwu pomoże.",
        "press-1-for-callback": "Jeśli zamiast czekać wolą Państwo, abyśmy oddzwonili, "
                                "prosimy nacisnąć jedynkę.",
        "callback-confirm": "Dziękujemy. Oddzwonimy, gdy tylko konsultant będzie wolny.",
        "thank-you-goodbye": "Dziękujemy za telefon. Do widzenia.",
        "survey-question": ("Zanim się rozłączysz: jak oceniasz tę rozmowę? "
                            "Naciśnij od 1, jeśli wcale nie jesteś zadowolony, do 5, jeśli bardzo."),
        "survey-thanks": "Dziękujemy za odpowiedź. Do widzenia.",
        "campaign-sorry": "Przepraszamy, wszyscy konsultanci są teraz zajęci. Zadzwonimy ponownie. Do widzenia.",
        "campaign-removed": "Nie będziemy już do Ciebie dzwonić. Do widzenia.",
        "main-menu": "Dział sprzedaży: prosimy nacisnąć jedynkę. Pomoc techniczna: dwójkę. "
                     "Aby połączyć się z operatorem, prosimy nacisnąć zero.",
        "invalid-option": "Niestety, nie ma takiej opcji.",
        "closed-greeting": "Dziękujemy za telefon. Obecnie nasze biuro jest nieczynne. "
                           "Zapraszamy ponownie w godzinach otwarcia.",
        "leave-a-message": "Prosimy zostawić wiadomość po sygnale.",
        "this-call-may-be-recorded": "Rozmowa może być nagrywana w celu zapewnienia "
                                     "jakości obsługi.",
        "press-9-to-decline-recording": "Jeśli nie wyrażają Państwo zgody na nagrywanie, "
                                        "prosimy nacisnąć dziewiątkę.",
    },
    "zh": {
        "you-are-caller-number": "您目前的排队序号是",
        "estimated-wait": "预计等待时间约为",
        "minute": "分钟",
        "minutes": "分钟",
        "please-hold": "请稍候，您的来电将尽快接通。",
        "agent-number": "现在由",
        "will-help-you": "号客服为您服务。",
        "press-1-for-callback": "如果您不想继续等待，需要我们回电，请按一。",
        "callback-confirm": "谢谢。客服人员空闲后将立即给您回电。",
        "thank-you-goodbye": "感谢您的来电，再见。",
        "survey-question": "挂机前请为本次通话评分：非常不满意请按1，非常满意请按5。",
        "survey-thanks": "感谢您的评价，再见。",
        "campaign-sorry": "抱歉，我们的客服人员正忙，我们稍后会再给您打电话。再见。",
        "campaign-removed": "我们不会再给您打电话。再见。",
        "main-menu": "销售请按一，技术支持请按二，转人工服务请按零。",
        "invalid-option": "对不起，您的输入有误。",
        "closed-greeting": "感谢您的来电。现在是非工作时间，请在工作时间再次致电。",
        "leave-a-message": "请在提示音后留言。",
        "this-call-may-be-recorded": "为了提高服务质量，您的通话可能会被录音。",
        "press-9-to-decline-recording": "如果您不同意录音，请按九。",
    },
}

# The voicemail menus' prompts (`appliance.logic.voicemail`). Each is one recorded file: the
# machines' parameters (counts, the caller of a message) are not spoken, so no text pretends to.
_VOICEMAIL: dict[str, dict[str, str]] = {
    "en": {
        "vm-default-greeting": "The person you are calling is not available. "
                               "Please leave a message after the tone. Press hash when you are done.",
        "vm-box-full": "Sorry, this mailbox is full and cannot take a message. Goodbye.",
        "vm-max-length-reached": "The maximum length of a message has been reached.",
        "vm-goodbye": "Goodbye.",
        "vm-enter-box": "Please enter your mailbox number, followed by hash.",
        "vm-enter-pin": "Please enter your PIN, followed by hash.",
        "vm-incorrect": "That is not correct.",
        "vm-locked": "This mailbox is locked after too many wrong PINs. Please try again later.",
        "vm-no-box": "There is no such mailbox.",
        "vm-main-menu": "For new messages, press 1. For old messages, press 2. "
                        "For mailbox options, press 0. To hang up, press hash.",
        "vm-no-messages": "There are no messages in this folder.",
        "vm-message-menu": "To repeat, press 5. For the previous message, press 4. For the next, press 6. "
                           "To delete, press 7. To save, press 9. For more, press 3. "
                           "For options, press 0. For the main menu, press star.",
        "vm-no-more": "There are no more messages.",
        "vm-deleted": "Message deleted.",
        "vm-saved": "Message saved.",
        "vm-advanced-menu": "To call the sender back, press 2. For the message's details, press 3. "
                            "To go back, press star.",
        "vm-envelope": "The caller and the time of this message are shown on the web page.",
        "vm-options": "To record your unavailable greeting, press 1. To record your busy greeting, "
                      "press 2. For your temporary greeting, press 4. To change your PIN, press 5. "
                      "To go back, press star.",
        "vm-temp-options": "To record a new temporary greeting, press 1. To remove it, press 2. "
                           "To go back, press star.",
        "vm-temp-removed": "Your temporary greeting has been removed.",
        "vm-record-greeting": "Record your greeting after the tone, then press hash.",
        "vm-review-greeting": "To keep this greeting, press 1. To listen to it, press 2. "
                              "To record it again, press 3. To cancel, press star.",
        "vm-greeting-saved": "Your greeting has been saved.",
        "vm-new-pin": "Please enter your new PIN, followed by hash.",
        "vm-confirm-pin": "Please enter the new PIN again, followed by hash.",
        "vm-pin-invalid": "A PIN has four to ten digits.",
        "vm-pin-mismatch": "The two PINs are not the same. Your PIN has not been changed.",
        "vm-pin-changed": "Your PIN has been changed.",
    },
    "pl": {
        "vm-default-greeting": "Osoba, do której Państwo dzwonią, jest niedostępna. "
                               "Prosimy zostawić wiadomość po sygnale i nacisnąć krzyżyk.",
        "vm-box-full": "Niestety, skrzynka głosowa jest pełna i nie można zostawić wiadomości. "
                       "Do widzenia.",
        "vm-max-length-reached": "Osiągnięto maksymalną długość wiadomości.",
        "vm-goodbye": "Do widzenia.",
        "vm-enter-box": "Wprowadź numer skrzynki i naciśnij krzyżyk.",
        "vm-enter-pin": "Wprowadź PIN i naciśnij krzyżyk.",
        "vm-incorrect": "Niepoprawne dane.",
        "vm-locked": "Skrzynka została zablokowana po zbyt wielu błędnych próbach. Spróbuj później.",
        "vm-no-box": "Nie ma takiej skrzynki.",
        "vm-main-menu": "Nowe wiadomości: jedynka. Stare wiadomości: dwójka. Ustawienia skrzynki: zero. "
                        "Aby zakończyć, naciśnij krzyżyk.",
        "vm-no-messages": "W tym folderze nie ma wiadomości.",
        "vm-message-menu": "Powtórz: piątka. Poprzednia wiadomość: czwórka. Następna: szóstka. "
                           "Usuń: siódemka. Zachowaj: dziewiątka. Więcej opcji: trójka. "
                           "Ustawienia: zero. Menu główne: gwiazdka.",
        "vm-no-more": "Nie ma więcej wiadomości.",
        "vm-deleted": "Wiadomość usunięta.",
        "vm-saved": "Wiadomość zachowana.",
        "vm-advanced-menu": "Aby oddzwonić do nadawcy, naciśnij dwójkę. Szczegóły wiadomości: trójka. "
                            "Powrót: gwiazdka.",
        "vm-envelope": "Numer dzwoniącego i godzina wiadomości są widoczne na stronie centrali.",
        "vm-options": "Nagranie powitania, gdy jesteś niedostępny: jedynka. Powitanie, gdy linia jest "
                      "zajęta: dwójka. Powitanie tymczasowe: czwórka. Zmiana PIN-u: piątka. "
                      "Powrót: gwiazdka.",
        "vm-temp-options": "Aby nagrać nowe powitanie tymczasowe, naciśnij jedynkę. Aby je usunąć, "
                           "naciśnij dwójkę. Powrót: gwiazdka.",
        "vm-temp-removed": "Powitanie tymczasowe zostało usunięte.",
        "vm-record-greeting": "Nagraj powitanie po sygnale, a potem naciśnij krzyżyk.",
        "vm-review-greeting": "Aby zachować powitanie, naciśnij jedynkę. Aby je odsłuchać, dwójkę. "
                              "Aby nagrać je ponownie, trójkę. Anuluj: gwiazdka.",
        "vm-greeting-saved": "Powitanie zostało zapisane.",
        "vm-new-pin": "Wprowadź nowy PIN i naciśnij krzyżyk.",
        "vm-confirm-pin": "Wprowadź nowy PIN jeszcze raz i naciśnij krzyżyk.",
        "vm-pin-invalid": "PIN ma od czterech do dziesięciu cyfr.",
        "vm-pin-mismatch": "Podane numery PIN się różnią. PIN nie został zmieniony.",
        "vm-pin-changed": "PIN został zmieniony.",
    },
    "zh": {
        "vm-default-greeting": "您拨打的用户暂时无法接听。请在提示音后留言，留言完毕请按井号键。",
        "vm-box-full": "对不起，该语音信箱已满，无法留言。再见。",
        "vm-max-length-reached": "留言已达到最长时间。",
        "vm-goodbye": "再见。",
        "vm-enter-box": "请输入信箱号码，并以井号键结束。",
        "vm-enter-pin": "请输入密码，并以井号键结束。",
        "vm-incorrect": "输入有误。",
        "vm-locked": "密码错误次数过多，信箱已被锁定。请稍后再试。",
        "vm-no-box": "该信箱不存在。",
        "vm-main-menu": "收听新留言请按一，收听旧留言请按二，信箱设置请按零，挂机请按井号键。",
        "vm-no-messages": "此文件夹中没有留言。",
        "vm-message-menu": "重听请按五，上一条请按四，下一条请按六，删除请按七，保存请按九，"
                           "更多选项请按三，设置请按零，返回主菜单请按星号键。",
        "vm-no-more": "没有更多留言了。",
        "vm-deleted": "留言已删除。",
        "vm-saved": "留言已保存。",
        "vm-advanced-menu": "回拨留言人请按二，留言详情请按三，返回请按星号键。",
        "vm-envelope": "留言人号码和留言时间请在网页上查看。",
        "vm-options": "录制无法接听时的问候语请按一，录制忙线时的问候语请按二，临时问候语请按四，"
                      "修改密码请按五，返回请按星号键。",
        "vm-temp-options": "重新录制临时问候语请按一，删除请按二，返回请按星号键。",
        "vm-temp-removed": "临时问候语已删除。",
        "vm-record-greeting": "请在提示音后录制问候语，完毕后请按井号键。",
        "vm-review-greeting": "保存问候语请按一，试听请按二，重新录制请按三，取消请按星号键。",
        "vm-greeting-saved": "问候语已保存。",
        "vm-new-pin": "请输入新密码，并以井号键结束。",
        "vm-confirm-pin": "请再次输入新密码，并以井号键结束。",
        "vm-pin-invalid": "密码为四到十位数字。",
        "vm-pin-mismatch": "两次输入的密码不一致，密码未修改。",
        "vm-pin-changed": "密码已修改。",
    },
}

BUILTIN_PROMPTS: dict[str, dict[str, str]] = {
    lang: _PHRASES[lang] | _VOICEMAIL[lang] | _number_prompts(lang) for lang in LANGUAGES}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language
