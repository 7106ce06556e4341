"""Voice prompts: the built-in set, sentences, text-to-speech and the admin's own recordings.

Every prompt is a WAV file in the engine's format (8 kHz, 16-bit signed PCM,
mono) at DATA/prompts/<language>/<name>.wav, with <name>.json beside it
saying where it came from. One module per concept:

- `catalogue`: what each built-in prompt says, in every language;
- `sentences`: the prompt names that say a number, a queue position, a wait;
- `files`: where prompts live and what is known about them;
- `audio`: the engine's format and the audio tools (espeak-ng, sox);
- `speech`: text-to-speech, and the built-in set made at first start;
- `uploads`: an uploaded recording converted to the engine's format.
"""

from appliance.prompts.audio import RATE, sox_formats
from appliance.prompts.catalogue import BUILTIN_PROMPTS, LANGUAGES
from appliance.prompts.files import NAME_RE, PromptInfo, PromptSource, list_prompts, prompt_dest, prompt_path
from appliance.prompts.sentences import (
    announce_agent, announce_position, announce_wait, say_digits, say_number)
from appliance.prompts.speech import (
    MAX_TEXT, VOICES, ensure_builtin_prompts, make_builtin_prompts_apart, synthesize, voice_for)
from appliance.prompts.uploads import convert_upload

__all__ = [
    "BUILTIN_PROMPTS", "LANGUAGES", "MAX_TEXT", "NAME_RE", "RATE", "VOICES", "PromptInfo",
    "PromptSource", "announce_agent", "announce_position", "announce_wait", "convert_upload",
    "ensure_builtin_prompts", "list_prompts", "make_builtin_prompts_apart", "prompt_dest", "prompt_path",
    "say_digits", "say_number", "sox_formats", "synthesize", "voice_for",
]
