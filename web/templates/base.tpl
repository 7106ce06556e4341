<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · Callbox</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body{{!' class="kiosk"' if get('kiosk') else ''}}>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">Callbox</a>
  % if user and not get('kiosk'):
  <nav aria-label="Main">
    <ul>
      <li><a href="/" {{!'aria-current="page"' if path == '/' else ''}}>{{'Dashboard' if user.role in ('admin', 'supervisor') else 'My panel'}}</a></li>
      % if user.role in ('admin', 'supervisor'):
      % for href, label in (('/now', 'Now'), ('/wallboard', 'Wallboard'), ('/queues', 'Queues'), ('/calls', 'Calls')):
      <li><a href="{{href}}" {{!'aria-current="page"' if path.startswith(href) else ''}}>{{label}}</a></li>
      % end
      % end
      % if user.role == 'admin':
      % for href, label in (('/ivr', 'IVR'), ('/wizard', 'Set-up wizard'), ('/extensions', 'Extensions'), ('/registrations', 'Registrations'), ('/bans', 'Bans'), ('/settings', 'Settings'), ('/users', 'Users'), ('/system', 'System'), ('/audit', 'Audit log')):
      <li><a href="{{href}}" {{!'aria-current="page"' if path.startswith(href) else ''}}>{{label}}</a></li>
      % end
      % end
    </ul>
  </nav>
  <form class="logout" method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <span class="who">{{user.username}} ({{user.role}})</span>
    <button type="submit">Log out</button>
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
</body>
</html>
