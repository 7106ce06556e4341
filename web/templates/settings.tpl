% rebase('base.tpl')
<h1>{{_('Settings')}}</h1>
<form method="post" action="/settings" class="settings">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if errors.get(''):
  <p class="error" role="alert">{{errors['']}}</p>
  % end
  % for group, fields in groups:
  <fieldset>
    <legend>{{_(group_title(group))}}</legend>
    % for f in fields:
    <div class="field{{' invalid' if f.key in errors else ''}}">
      <input type="hidden" name="shown" value="{{f.key}}">
      % described = f.id + '-help' + ((' ' + f.id + '-error') if f.key in errors else '')
      % invalid = 'aria-invalid="true"' if f.key in errors else ''
      % if f.kind == 'checkbox':
      <div class="check"><input type="checkbox" id="{{f.id}}" name="{{f.name}}" {{!'checked' if f.value else ''}} aria-describedby="{{described}}" {{!invalid}}><label for="{{f.id}}">{{f.key}}</label></div>
      % elif f.kind == 'select':
      <label for="{{f.id}}">{{f.key}}</label>
      <select id="{{f.id}}" name="{{f.name}}" aria-describedby="{{described}}" {{!invalid}}>
        % for c in f.choices:
        <option value="{{c}}" {{!'selected' if str(c) == f.shown_value else ''}}>{{_(str(c))}}</option>
        % end
      </select>
      % elif f.kind == 'readonly':
      <span class="label" id="{{f.id}}">{{f.key}}</span>
      <pre class="readonly" aria-labelledby="{{f.id}}" aria-describedby="{{described}}">{{f.shown_value or '–'}}</pre>
      % else:
      <label for="{{f.id}}">{{f.key}}</label>
      <input id="{{f.id}}" name="{{f.name}}" type="{{'text' if f.kind == 'list' else f.kind}}" value="{{'' if f.kind == 'password' else f.shown_value}}" {{!'step="any"' if f.kind == 'number' else ''}} {{!'autocomplete="new-password"' if f.kind == 'password' else ''}} aria-describedby="{{described}}" {{!invalid}}>
      % end
      <p class="help" id="{{f.id}}-help">{{f.help}}
% if f.kind == 'password':
<span class="default">{{_('Leave empty to keep the current value.')}}</span>
% elif f.kind == 'list':
<span class="default">{{_('Separate several values with commas.')}} {{_('Default: {value}.', value=', '.join(str(v) for v in f.default or []) or '–')}}</span>
% elif f.kind != 'readonly':
<span class="default">{{_('Default: {value}.', value=_(str(f.default)) if isinstance(f.default, bool) else f.default)}}</span>
% end
{{(' ' + _('Takes effect after a restart.')) if f.restart else ''}}</p>
      % if f.key in errors:
      <p class="field-error" id="{{f.id}}-error" role="alert">{{translate_message(errors[f.key])}}</p>
      % end
    </div>
    % end
  </fieldset>
  % end
  <button type="submit">{{_('Save settings')}}</button>
</form>
