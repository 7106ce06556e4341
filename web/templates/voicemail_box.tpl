% rebase('base.tpl')
<h1>{{_("Voicemail box {box}", box=box)}}</h1>
<p>{{ngettext("{n} new message", "{n} new messages", config.get('new', 0))}}, {{ngettext("{n} old message", "{n} old messages", config.get('old', 0))}}</p>
<section aria-labelledby="msgs-title">
<h2 id="msgs-title">{{_("Messages")}}</h2>
% if not messages:
<p>{{_("The box is empty.")}}</p>
% else:
<ul class="messages">
  % for m in messages:
  <li class="message{{' new' if m.get('folder') == 'new' else ''}}">
    <p><strong>{{m.get('caller_name') or m.get('caller') or _('unknown caller')}}</strong>
      % if m.get('caller_name') and m.get('caller'):
      ({{m['caller']}})
      % end
      · {{t.datetime(m.get('received'))}} · {{t.duration(m.get('duration_s'))}}
      · {{_("new") if m.get('folder') == 'new' else _("heard")}}</p>
    <audio controls preload="none" src="/voicemail/{{box}}/{{m['id']}}.wav" aria-label="{{_('Listen to the message from {caller}', caller=m.get('caller') or _('unknown caller'))}}"></audio>
    <p><a href="/voicemail/{{box}}/{{m['id']}}.wav?download=1">{{_("Download")}}</a></p>
    <form method="post" action="/voicemail/{{box}}/{{m['id']}}/delete" data-confirm="{{_('Delete this message?')}}">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button type="submit" class="danger">{{_("Delete")}}</button>
    </form>
  </li>
  % end
</ul>
% end
</section>
<section aria-labelledby="box-settings-title">
<h2 id="box-settings-title">{{_("Box settings")}}</h2>
<form method="post" action="/voicemail/{{box}}/settings" class="card">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % def field_error(key):
  %   if key in errors:
  <p class="field-error" id="vm-{{key}}-error" role="alert">{{errors[key]}}</p>
  %   end
  % end
  <label for="vm-pin">{{_("New PIN")}}</label>
  <input id="vm-pin" name="pin" type="password" inputmode="numeric" autocomplete="new-password" aria-describedby="vm-pin-help" {{!'aria-invalid="true"' if 'pin' in errors else ''}}>
  <p class="help" id="vm-pin-help">{{_("4 to 10 digits, for listening by phone. Leave empty to keep the current PIN.")}}</p>
  % field_error('pin')
  <label for="vm-email">{{_("Email")}}</label>
  <input id="vm-email" name="email" type="email" value="{{config.get('email', '')}}" {{!'aria-invalid="true"' if 'email' in errors else ''}}>
  % field_error('email')
  % if admin:
  <label for="vm-max_message_s">{{_("Longest message (seconds)")}}</label>
  <input id="vm-max_message_s" name="max_message_s" type="number" min="1" max="3600" value="{{config.get('max_message_s', '')}}" {{!'aria-invalid="true"' if 'max_message_s' in errors else ''}}>
  % field_error('max_message_s')
  <label for="vm-max_messages">{{_("Most messages kept")}}</label>
  <input id="vm-max_messages" name="max_messages" type="number" min="1" max="10000" value="{{config.get('max_messages', '')}}" {{!'aria-invalid="true"' if 'max_messages' in errors else ''}}>
  % field_error('max_messages')
  % end
  <div class="check"><input type="checkbox" id="vm-attach" name="attach_audio" {{!'checked' if config.get('attach_audio') else ''}}><label for="vm-attach">{{_("Attach the recording to the email")}}</label></div>
  <div class="check"><input type="checkbox" id="vm-notify" name="notify_unsolicited" {{!'checked' if config.get('notify_unsolicited') else ''}}><label for="vm-notify">{{_("Light the message lamp of phones that do not subscribe")}}</label></div>
  <button type="submit">{{_("Save box settings")}}</button>
</form>
</section>
