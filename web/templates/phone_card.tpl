% import json
% # The agent's phone in this browser (static/phone.js; docs/browser-phone.md, "The agent panel").
% words = {'starting': _('Phone: starting…'), 'connecting': _('Phone: connecting to the box…'),
%          'registering': _('Phone: signing in…'),
%          'ready': _('Phone ready: calls to extension {extension} ring here.'),
%          'unregistered': _('Phone: not signed in'),
%          'refused': _('The box refused this phone: {reason}. Reload the page to try again.'),
%          'off_short': _('Phone: off'), 'lost_short': _('Phone: connection lost'),
%          'lost': _('The connection to the box was lost; trying again in {seconds} s.'),
%          'web_lost': _('the web page does not answer'),
%          'moved_short': _('Phone: in another tab'),
%          'moved': _('This phone moved to a newer tab or window of this browser, which now takes your calls. Reload this page to take them here again.'),
%          'box_off': _('The box has the phone in the browser turned off (setting sip.wss_port is 0, or another program holds its port). Ask an admin, or use a desk phone.'),
%          'session_ended': _('Your session has ended: reload the page to log in.'),
%          'mic_denied': _('The browser refused the microphone to this page, so calls cannot ring here. Allow the microphone in the site settings (the icon left of the address), then reload the page.'),
%          'mic_missing': _('This computer has no microphone, so calls cannot ring here. Plug in a headset, then reload the page.'),
%          'mic_busy': _('The microphone is in use by another program or cannot be opened. Close the other program, then reload the page.'),
%          'mic_other': _('The microphone could not be opened ({reason}). Reload the page to try again.'),
%          'insecure': _('The microphone works only on a page opened over HTTPS: open {url}.'),
%          'no_library': _('The phone script did not load. Reload the page.'),
%          'ringing': _('Ringing: {caller}'), 'answering': _('Answering…'), 'talking': _('On a call with {caller}'),
%          'held': _('On hold: {caller}'), 'call_ended': _('Call ended.'), 'call_failed': _('The call failed: {reason}'),
%          'unknown': _('unknown caller'), 'decline': _('Decline'), 'hang_up': _('Hang up'),
%          'hold': _('Hold'), 'resume': _('Resume'), 'mute': _('Mute'), 'unmute': _('Unmute'),
%          'transferring': _('Transferring to {target}…'),
%          'transfer_failed': _('The call was not transferred to {target}: {reason}'),
%          'transfer_digits': _('Type the extension number to transfer to.')}
<section class="card phone" id="phone" aria-labelledby="phone-title" data-phone-ticket="/agent/phone/ticket" data-extension="{{extension}}" data-csrf="{{csrf}}">
  <h2 id="phone-title">{{_('Phone in this browser')}}</h2>
  <p class="big"><span class="badge" id="phone-state" aria-live="polite">{{_('Phone: starting…')}}</span></p>
  <noscript><p class="notice">{{_('The phone in the browser needs JavaScript.')}}</p></noscript>
  <p class="error" id="phone-problem" role="alert" hidden></p>
  <p class="help" id="phone-certificate" hidden>{{_("If this browser has not accepted the box's certificate for the phone's own port yet, open this address once, accept the certificate, and come back:")}} <a id="phone-certificate-link" href="/" target="_blank" rel="noopener"></a></p>
  <div id="phone-call" hidden>
    <p class="big" id="phone-peer"></p>
    <p id="phone-call-state" aria-live="assertive"></p>
    <div class="actions">
      <button type="button" id="phone-answer" hidden>{{_('Answer')}}</button>
      <button type="button" id="phone-hangup">{{_('Hang up')}}</button>
      <button type="button" id="phone-hold" aria-pressed="false" hidden>{{_('Hold')}}</button>
      <button type="button" id="phone-mute" aria-pressed="false" hidden>{{_('Mute')}}</button>
    </div>
    <div class="keypad" id="phone-keypad" role="group" aria-label="{{_('Keypad')}}" hidden>
      % for digit in '123456789*0#':
      <button type="button" data-digit="{{digit}}">{{digit}}</button>
      % end
    </div>
    <form id="phone-transfer-form" class="inline" hidden>
      <label for="phone-transfer-to">{{_('Transfer to extension')}}</label>
      <input id="phone-transfer-to" name="to" inputmode="numeric" maxlength="15" autocomplete="off">
      <button type="submit">{{_('Transfer')}}</button>
    </form>
  </div>
  <audio id="phone-audio" autoplay></audio>
  <script type="application/json" id="phone-words">{{!json.dumps(words, ensure_ascii=False).replace('</', '<\\/')}}</script>
</section>
<script src="/static/jssip.min.js" defer></script>
<script src="/static/phone.js" defer></script>
