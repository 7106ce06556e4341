<!DOCTYPE html>
<html lang="{{'zh-Hans' if lang == 'zh' else lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{get('box_name') or 'Callbox'}}</title>
<link rel="icon" href="/favicon.ico" sizes="any">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body data-timezone="{{t.tz}}"{{!' class="kiosk"' if get('kiosk') else ''}}>
<a class="skip" href="#main">{{_("Skip to content")}}</a>
<header class="top">
  <a class="brand" href="/">{{get('box_name') or 'Callbox'}}</a>
  % if user and not get('kiosk'):
  <nav aria-label="{{_('Main')}}">
    <ul>
      % for entry in menu.top:
      <li><a href="{{entry.href}}" {{!'aria-current="page"' if entry.current else ''}}>{{_(entry.label)}}</a></li>
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
% if user and not get('kiosk') and menu.sub:
<nav class="sub" aria-label="{{_(menu.sub_label)}}">
  <ul>
    % for entry in menu.sub:
    <li><a href="{{entry.href}}" {{!'aria-current="page"' if entry.current else ''}}>{{_(entry.label)}}</a></li>
    % end
  </ul>
</nav>
% end
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
