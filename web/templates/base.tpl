<!DOCTYPE html>
<html lang="{{'zh-Hans' if lang == 'zh' else lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · Callbox</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body{{!' class="kiosk"' if get('kiosk') else ''}}>
<a class="skip" href="#main">{{_("Skip to content")}}</a>
<header class="top">
  <a class="brand" href="/">Callbox</a>
  % if user and not get('kiosk'):
  <nav aria-label="{{_('Main')}}">
    <ul>
      <li><a href="/" {{!'aria-current="page"' if path == '/' else ''}}>{{_('Dashboard') if user.role in ('admin', 'supervisor') else _('My panel')}}</a></li>
      % if user.role in ('admin', 'supervisor'):
      % for href, label in (('/now', _('Now')), ('/wallboard', _('Wallboard')), ('/queues', _('Queues')), ('/calls', _('Calls')), ('/reports', _('Reports')), ('/recordings', _('Recordings')), ('/contacts', _('Contacts'))):
      <li><a href="{{href}}" {{!'aria-current="page"' if path.startswith(href) else ''}}>{{label}}</a></li>
      % end
      % end
      % if user.role == 'admin':
      % for href, label in (('/voicemail', _('Voicemail')), ('/ivr', 'IVR'), ('/prompts', _('Prompts')), ('/trunks', _('Trunks and lines')), ('/phones', _('Phones')), ('/contract', _('Contract')), ('/wizard', _('Set-up wizard')), ('/extensions', _('Extensions')), ('/registrations', _('Registrations')), ('/bans', _('Bans')), ('/settings', _('Settings')), ('/users', _('Users')), ('/system', _('System')), ('/audit', _('Audit log'))):
      <li><a href="{{href}}" {{!'aria-current="page"' if path.startswith(href) else ''}}>{{label}}</a></li>
      % end
      % elif user.role == 'agent':
      <li><a href="/voicemail" {{!'aria-current="page"' if path.startswith('/voicemail') else ''}}>{{_('Voicemail')}}</a></li>
      <li><a href="/contacts" {{!'aria-current="page"' if path.startswith('/contacts') else ''}}>{{_('Contacts')}}</a></li>
      % end
    </ul>
  </nav>
  <form class="language" method="post" action="/language">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="next" value="{{get('fullpath', path)}}">
    <label for="language-choice">{{_('Language')}}</label>
    <select id="language-choice" name="language">
      % for code, name in languages.items():
      <option value="{{code}}" lang="{{code}}" {{!'selected' if code == lang else ''}}>{{name}}</option>
      % end
    </select>
    <button type="submit">{{_('Change')}}</button>
  </form>
  <form class="logout" method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <span class="who">{{user.username}} ({{_(user.role)}})</span>
    <button type="submit">{{_('Log out')}}</button>
  </form>
  % end
</header>
<main id="main">
% for text in notices:
<p class="notice" role="status">{{text}}</p>
% end
% if error:
<p class="error" role="alert" id="form-error">{{error}}</p>
% end
{{!base}}
</main>
<script type="application/json" id="messages">{{!messages_json}}</script>
</body>
</html>
